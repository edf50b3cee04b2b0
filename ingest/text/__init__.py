"""Filing text: clean text and sections of primary documents, text signals, search."""
