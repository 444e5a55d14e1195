package export_weld_broken_tally

func Count(words []string) uint32 {
	var total uint32 = "many"
	return total + uint32(len(words))
}
