package slip39

import (
	"fmt"
	"testing"
)

func BenchmarkSplit3of5(b *testing.B) {
	secret := make([]byte, 32)
	for _, e := range []int{0, 1} {
		b.Run(fmt.Sprintf("e=%d", e), func(b *testing.B) {
			for b.Loop() {
				if _, err := Split(secret, nil, 1, []GroupSpec{{3, 5}}, true, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCombine3of5(b *testing.B) {
	secret := make([]byte, 32)
	for _, e := range []int{0, 1} {
		b.Run(fmt.Sprintf("e=%d", e), func(b *testing.B) {
			g, err := Split(secret, nil, 1, []GroupSpec{{3, 5}}, true, e)
			if err != nil {
				b.Fatal(err)
			}
			shares := g[0][:3]
			for b.Loop() {
				if _, err := Combine(shares, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseShare measures the constant-time word lookup (33 words,
// each compared with all 1024 list entries).
func BenchmarkParseShare(b *testing.B) {
	g, err := Split(make([]byte, 32), nil, 1, []GroupSpec{{1, 1}}, true, 0)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ParseShare(g[0][0]); err != nil {
			b.Fatal(err)
		}
	}
}
