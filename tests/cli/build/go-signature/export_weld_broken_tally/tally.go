package export_weld_broken_tally

// The world says `count: func(words: list<string>) -> u32`.
func Count(words []string, upper bool) int {
	return len(words)
}
