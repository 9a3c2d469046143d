import TTSCommands

@main enum Entry { static func main() async { await RootCommand.main() } }
