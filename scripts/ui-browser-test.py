#!/usr/bin/env python3
"""The web UI in a real browser: Debian's chromium, headless, driven by selenium through chromium-driver
(scripts/setup.sh installs all three). Run by WebUIBrowserTests with a JSON plan on stdin:

  {"base": "http://127.0.0.1:PORT", "screenshots": DIR, "docs": DIR or null,
   "steps": [{"do": NAME, ...}, ...]}

Each step is one of the checks below; every step saves a screenshot DIR/NN-NAME.png. A failed check prints
FAIL and what it saw, and the script exits 1 after saving a screenshot of the page it failed on. Prints one line
per step and `browser: N steps passed`.
"""
import json
import os
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

# Generous: the machine is shared; a wait ends as soon as its condition holds.
WAIT = 120


class Failed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


def browser(width, height):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                     "--disable-background-networking", "--disable-extensions", "--window-size=%d,%d" % (width, height)):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(WAIT)
    return driver


class Run:
    def __init__(self, plan):
        self.plan = plan
        self.base = plan["base"]
        self.shots = plan["screenshots"]
        os.makedirs(self.shots, exist_ok=True)
        self.driver = browser(1280, 900)
        self.count = 0
        self.console = []

    def url(self, path):
        return self.base + path

    def wait(self, condition, what):
        # `what` is a plain string: reading the page to build it would race the navigation being waited for (a
        # failure prints the page text anyway).
        try:
            # Live updates replace elements while a condition reads them: a stale or missing element is "not yet".
            return WebDriverWait(self.driver, WAIT, poll_frequency=0.2,
                                 ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(condition)
        except TimeoutException:
            raise Failed("timed out waiting for " + what)

    def shot(self, name):
        self.count += 1
        path = os.path.join(self.shots, "%02d-%s.png" % (self.count, name))
        self.driver.save_screenshot(path)
        return path

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def click(self, selector, what):
        """Clicks, again if a live refresh replaced the element between finding and clicking it."""
        def attempt(driver):
            driver.find_element(By.CSS_SELECTOR, selector).click()
            return True
        self.wait(attempt, what)

    def log_in(self, token):
        self.driver.delete_all_cookies()
        self.driver.get(self.url("/login"))
        field = self.wait(EC.presence_of_element_located((By.ID, "token")), "the token field")
        field.send_keys(token)
        self.driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
        self.wait(lambda d: "/login" not in d.current_url, "the login to finish (still on %s)" % self.driver.current_url)

    # MARK: steps

    def step_login(self, step):
        """Logs in by pasting the token; the namespace page lists exactly `namespaces`."""
        self.log_in(step["token"])
        self.driver.get(self.url("/namespaces"))
        listed = [a.text for a in self.driver.find_elements(By.CSS_SELECTOR, "table tbody th a")]
        check(listed == step["namespaces"], "namespaces listed %s, expected %s" % (listed, step["namespaces"]))
        for cookie in self.driver.get_cookies():
            check(cookie.get("httpOnly"), "cookie %s is not HttpOnly" % cookie["name"])
        stored = self.driver.execute_script("return JSON.stringify(window.localStorage) + document.cookie")
        check(step["token"][:24] not in stored and "tenantry_session" not in stored, "the token or cookie is readable by script: %s" % stored[:80])

    def step_list(self, step):
        """The list of a namespace shows exactly `sessions` (ids), and no others."""
        self.driver.get(self.url("/namespaces/%s/sessions" % step["namespace"]))
        self.wait(EC.presence_of_element_located((By.ID, "session-rows")), "the sessions table")
        ids = self.row_ids()
        if "sessions" in step:
            check(set(ids) == set(step["sessions"]), "rows %s, expected %s" % (ids, step["sessions"]))
        if "count" in step:
            check(len(ids) == step["count"], "%d rows (%s), expected %d" % (len(ids), ids, step["count"]))
        for absent in step.get("absent", []):
            check(absent not in self.driver.page_source, "%s is on the page" % absent)
        check(("New session" in self.text()) == step.get("create", True), "New session button shown: %s" % ("New session" in self.text()))
        if step.get("live"):
            self.wait(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-live") == "open", "the event stream to open")
        if step.get("docs"):
            self.docs_shot("list")

    def row_ids(self):
        return [row.get_attribute("id")[len("session-"):] for row in self.driver.find_elements(By.CSS_SELECTOR, "#session-rows tr[id^='session-']")]

    def step_live_row(self, step):
        """With the list open (no reload), an HTTP request (a webhook delivery) makes its session's row appear."""
        self.driver.get(self.url("/namespaces/%s/sessions" % step["namespace"]))
        self.wait(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-live") == "open", "the event stream to open")
        marker = self.driver.execute_script("window.__notReloaded = 1; return window.__notReloaded")
        request = step["request"]
        answer = urllib.request.urlopen(urllib.request.Request(request["url"], data=request["body"].encode(), headers=request["headers"], method="POST"), timeout=60)
        check(answer.status in (200, 201, 202), "the delivery answered %d" % answer.status)
        session = json.loads(answer.read().decode()).get("sessionId") or step.get("session")
        self.wait(lambda d: session in self.row_ids(), "row %s to appear without a reload (rows %s)" % (session, self.row_ids()))
        check(self.driver.execute_script("return window.__notReloaded") == marker, "the page was reloaded")
        if step.get("phase"):
            self.wait(lambda d: d.find_element(By.ID, "session-" + session).get_attribute("data-phase") == step["phase"],
                      "row %s to reach %s live" % (session, step["phase"]))
        self.result = session

    def step_detail(self, step):
        """The detail page of `session`: `texts` shown, the log holds `log`, artifact `artifact` previews."""
        session = step.get("session") or self.result
        self.driver.get(self.url("/namespaces/%s/sessions/%s" % (step["namespace"], session)))
        for text in step.get("texts", []):
            self.wait(lambda d: text in self.text(), "%r on the detail page" % text)
        if step.get("log"):
            self.wait(lambda d: step["log"] in d.find_element(By.ID, "log").text, "%r in the log (have %r)" % (step["log"], self.driver.find_element(By.ID, "log").text[-200:]))
        for absent in step.get("noButtons", []):
            check(not self.driver.find_elements(By.CSS_SELECTOR, "form[action$='/%s'] button" % absent), "a %s button is shown" % absent)
        if step.get("docs"):
            self.docs_shot("detail")
        if step.get("artifact"):
            # The runner uploads its log as it ends, which changes no Session field: reload until the API lists it.
            selector = "a[href$='/artifacts/%s?view=1']" % step["artifact"]
            deadline = time.time() + WAIT
            while not self.driver.find_elements(By.CSS_SELECTOR, selector):
                check(time.time() < deadline, "artifact %s listed" % step["artifact"])
                time.sleep(1)
                self.driver.refresh()
            self.click("a[href$='/artifacts/%s?view=1']" % step["artifact"], "the preview link of %s" % step["artifact"])
            self.wait(lambda d: step["artifactText"] in self.text(), "%r in the artifact preview" % step["artifactText"])

    def step_script_title(self, step):
        """A title holding <script> is shown as text and runs nothing."""
        self.driver.execute_script("window.__xss = 0")
        self.driver.get(self.url(step["path"]))
        self.wait(lambda d: step["title"] in self.text(), "the title %r shown as text" % step["title"])
        check(self.driver.execute_script("return window.__xss === undefined || window.__xss === 0"), "a script ran")
        alerts = self.driver.execute_script("return document.querySelectorAll('main script').length")
        check(alerts == 0, "a script element came from the payload")

    def step_create(self, step):
        """An editor fills the new-session form; the session page follows it to `phase`."""
        self.driver.get(self.url("/namespaces/%s/sessions/new" % step["namespace"]))
        if step.get("framework"):
            Select(self.driver.find_element(By.ID, "framework")).select_by_value(step["framework"])
        self.driver.find_element(By.ID, "description").send_keys(step["description"])
        if step.get("repository"):
            self.driver.find_element(By.ID, "repository").send_keys(step["repository"])
        self.driver.find_element(By.CSS_SELECTOR, "form[action$='/sessions'] button[type=submit]").click()
        self.wait(lambda d: "/sessions/" in d.current_url and not d.current_url.endswith("/new") and "/sessions/new" not in d.current_url,
                  "the new session's page")
        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "dl.facts .phase-%s" % step["phase"].lower()),
                  "the session to reach %s" % step["phase"])
        self.result = self.driver.current_url.rsplit("/", 1)[-1]

    def step_forged_post(self, step):
        """A form post the page does not offer (with the page's CSRF token) gets the API's 403."""
        self.driver.get(self.url(step["page"]))
        path = step["path"]
        if "@first" in path:
            rows = self.row_ids()
            check(rows, "no row to forge a post for")
            path = path.replace("@first", rows[0])
        status = self.driver.execute_async_script("""
            const [path, body, done] = arguments;
            const csrf = document.querySelector("input[name=csrf]").value;
            fetch(path, {method: "POST", credentials: "same-origin", redirect: "manual",
                         headers: {"Content-Type": "application/x-www-form-urlencoded"},
                         body: "csrf=" + encodeURIComponent(csrf) + "&" + body}).then(r => done(r.status), e => done(String(e)));
        """, path, step.get("body", ""))
        check(status == 403, "the forged post answered %s" % status)

    def step_get_status(self, step):
        """A page the caller may not see answers `status` (the API's refusal)."""
        self.driver.get(self.url(step["path"]))
        status = self.driver.execute_async_script("""
            const [path, done] = arguments;
            fetch(path, {credentials: "same-origin", redirect: "manual"}).then(r => done(r.status), e => done(String(e)));
        """, step["path"])
        check(status == step["status"], "%s answered %s" % (step["path"], status))

    def step_approve(self, step):
        """An approver presses Approve on a pending session; the page then shows `after`."""
        self.driver.get(self.url("/namespaces/%s/sessions/%s" % (step["namespace"], step.get("session") or self.result)))
        self.click("form[action$='/approve'] button", "the Approve button")
        self.wait(lambda d: step["after"] in self.text(), "%r after approving" % step["after"])

    def step_phone(self, step):
        """At phone width the page needs no sideways scrolling."""
        self.driver.set_window_size(390, 844)
        self.driver.get(self.url(step["path"]))
        self.wait(EC.presence_of_element_located((By.ID, "main")), "the page")
        overflow = self.driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        self.driver.set_window_size(1280, 900)
        check(overflow <= 1, "the page is %dpx wider than a phone" % overflow)

    def docs_shot(self, name):
        """A small PNG for the README (committed under docs/)."""
        directory = self.plan.get("docs")
        if not directory:
            return
        os.makedirs(directory, exist_ok=True)
        self.driver.set_window_size(1000, 640)
        self.driver.save_screenshot(os.path.join(directory, "ui-%s.png" % name))
        self.driver.set_window_size(1280, 900)

    def run(self):
        self.result = None
        passed = 0
        try:
            for step in self.plan["steps"]:
                name = step["do"]
                getattr(self, "step_" + name)(step)
                path = self.shot(step.get("name", name))
                passed += 1
                print("ok   %s (%s)" % (step.get("name", name), os.path.basename(path)), flush=True)
        except Exception as failure:  # a Failed check, or selenium's own (an element not found)
            path = self.shot("failed-" + step.get("name", name))
            print("FAIL %s: %s (screenshot %s, at %s)" % (step.get("name", name), str(failure).splitlines()[0] if str(failure) else repr(failure), path, self.driver.current_url), flush=True)
            print("page text: " + self.text()[:4000].replace("\n", " | "), flush=True)
            return 1
        finally:
            self.driver.quit()
        print("browser: %d steps passed" % passed)
        return 0


if __name__ == "__main__":
    sys.exit(Run(json.load(sys.stdin)).run())
