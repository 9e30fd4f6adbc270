import Model

/// The origin as the outbox keeps it next to the body, for the answer written back there.
extension SessionOrigin {
    var json: JSON {
        var object: JSONObject = ["source": .string(source.rawValue), "isPullRequest": .bool(isPullRequest)]
        let texts: [(String, String?)] = [("repository", repository), ("headSHA", headSHA), ("jiraKey", jiraKey),
                                          ("jiraSite", jiraSite), ("slackChannel", slackChannel), ("slackThread", slackThread),
                                          ("slackResponseURL", slackResponseURL), ("url", url)]
        for (key, value) in texts { if let value { object[key] = .string(value) } }
        if let number { object["number"] = .int(number) }
        return .object(object)
    }

    init?(json: JSON) {
        guard let source = json["source"]?.stringValue.flatMap(Session.Source.init(rawValue:)) else { return nil }
        self.init(source: source, repository: json["repository"]?.stringValue, number: json["number"]?.intValue,
                  isPullRequest: json["isPullRequest"]?.boolValue ?? false, headSHA: json["headSHA"]?.stringValue,
                  jiraKey: json["jiraKey"]?.stringValue, jiraSite: json["jiraSite"]?.stringValue,
                  slackChannel: json["slackChannel"]?.stringValue, slackThread: json["slackThread"]?.stringValue,
                  slackResponseURL: json["slackResponseURL"]?.stringValue, url: json["url"]?.stringValue)
    }
}
