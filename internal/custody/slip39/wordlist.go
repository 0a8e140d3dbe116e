package slip39

import (
	_ "embed"
	"strings"
)

// wordlistText is the SLIP-0039 word list (satoshilabs/slips,
// slip-0039/wordlist.txt); TestWordlistDigest pins its SHA-256.
//
//go:embed wordlist.txt
var wordlistText string

const (
	radixBits   = 10
	wordCount   = 1 << radixBits
	maxWordSize = 8
)

// packedWords holds every word as up to eight ASCII bytes packed big-endian
// into a uint64 and zero-filled on the right, so that a word can be found,
// and an index turned back into a word, by scanning all 1024 entries with
// masks: which entry matched is secret (it encodes share-value bits), so no
// map lookup or slice index is made with it.
var packedWords = mustLoadWordlist(wordlistText)

func mustLoadWordlist(text string) *[wordCount]uint64 {
	words := strings.Fields(text)
	if len(words) != wordCount {
		panic("slip39: embedded word list does not have 1024 words")
	}
	var packed [wordCount]uint64
	for i, w := range words {
		p, ok := packWord(w)
		if !ok || (i > 0 && p <= packed[i-1]) {
			panic("slip39: embedded word list is malformed")
		}
		packed[i] = p
	}
	return &packed
}

// packWord packs a word of 1..8 ASCII letters, folding upper case to lower;
// any other input is rejected so that no two normalized words share a
// packing.
func packWord(w string) (uint64, bool) {
	if len(w) == 0 || len(w) > maxWordSize {
		return 0, false
	}
	var p uint64
	for i := range maxWordSize {
		p <<= 8
		if i < len(w) {
			c := w[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c < 'a' || c > 'z' {
				return 0, false
			}
			p |= uint64(c)
		}
	}
	return p, true
}

// ctEq64 returns 1 if a == b and 0 otherwise, without branching.
func ctEq64(a, b uint64) uint64 {
	d := a ^ b
	return 1 ^ (d|-d)>>63
}

// wordIndex returns the index of w in the word list, scanning the whole
// list whatever w is.
func wordIndex(w string) (uint16, bool) {
	p, ok := packWord(w)
	if !ok {
		return 0, false
	}
	var idx, found uint64
	for i, q := range packedWords {
		eq := ctEq64(p, q)
		idx |= uint64(i) & -eq
		found |= eq
	}
	return uint16(idx), found == 1
}

// appendWord appends the word with index idx (0..1023), selecting it by a
// full scan of the list.
func appendWord(dst []byte, idx uint16) []byte {
	var p uint64
	for i, q := range packedWords {
		p |= q & -ctEq64(uint64(i), uint64(idx))
	}
	for range maxWordSize {
		c := byte(p >> 56)
		if c == 0 {
			break
		}
		dst = append(dst, c)
		p <<= 8
	}
	return dst
}
