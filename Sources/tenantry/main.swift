import Commands
import Foundation

exit(Tenantry.run(Array(CommandLine.arguments.dropFirst())))
