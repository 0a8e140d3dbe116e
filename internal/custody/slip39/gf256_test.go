package slip39

import (
	"bytes"
	"testing"
)

// slowMul is the textbook branching product, as an independent reference.
func slowMul(a, b byte) byte {
	var p byte
	for b != 0 {
		if b&1 != 0 {
			p ^= a
		}
		hi := a&0x80 != 0
		a <<= 1
		if hi {
			a ^= 0x1b
		}
		b >>= 1
	}
	return p
}

func TestGFMul(t *testing.T) {
	// FIPS-197 section 4.2 examples.
	for _, c := range []struct{ a, b, want byte }{
		{0x57, 0x83, 0xc1}, {0x57, 0x13, 0xfe}, {0x57, 0x02, 0xae}, {0x57, 0x04, 0x47},
		{0x57, 0x08, 0x8e}, {0x57, 0x10, 0x07}, {0x00, 0xff, 0x00}, {0x01, 0xab, 0xab},
	} {
		if got := gfMul(c.a, c.b); got != c.want {
			t.Errorf("gfMul(%#x, %#x) = %#x, want %#x", c.a, c.b, got, c.want)
		}
	}
	for a := range 256 {
		for b := range 256 {
			if got, want := gfMul(byte(a), byte(b)), slowMul(byte(a), byte(b)); got != want {
				t.Fatalf("gfMul(%#x, %#x) = %#x, reference %#x", a, b, got, want)
			}
		}
	}
}

func TestGFInv(t *testing.T) {
	if gfInv(0) != 0 {
		t.Error("gfInv(0) != 0")
	}
	// FIPS-197 section 4.4 example: {53}^-1 = {ca}.
	if got := gfInv(0x53); got != 0xca {
		t.Errorf("gfInv(0x53) = %#x, want 0xca", got)
	}
	for a := 1; a < 256; a++ {
		if p := gfMul(byte(a), gfInv(byte(a))); p != 1 {
			t.Fatalf("%#x · gfInv(%#x) = %#x", a, a, p)
		}
	}
}

func TestInterpolate(t *testing.T) {
	// Shares produced by splitSecret, recovered from every threshold subset.
	for _, c := range []struct{ k, n int }{{1, 1}, {2, 2}, {2, 5}, {3, 5}, {7, 16}, {16, 16}} {
		secret := randomSecret(t, 32)
		shares, err := splitSecret(c.k, c.n, secret)
		if err != nil {
			t.Fatal(err)
		}
		pts := make([]point, c.n)
		for i, s := range shares {
			pts[i] = point{x: byte(i), y: s}
		}
		// Interpolating at a known point returns that point.
		out := make([]byte, 32)
		for i := range pts {
			interpolate(out, pts[i].x, pts)
			if !bytes.Equal(out, pts[i].y) {
				t.Fatalf("%d-of-%d: value at x=%d not reproduced", c.k, c.n, i)
			}
		}
		// Any k points, in reverse order, recover the secret.
		sub := make([]point, 0, c.k)
		for i := c.n - 1; i >= c.n-c.k; i-- {
			sub = append(sub, pts[i])
		}
		got, err := recoverSecret(c.k, sub, pts[:c.n-c.k])
		if err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("%d-of-%d: recoverSecret: %v", c.k, c.n, err)
		}
		if c.k > 1 {
			// Swapping the x of two points changes the polynomial: digest fails.
			sub[0].x, sub[1].x = sub[1].x, sub[0].x
			if _, err := recoverSecret(c.k, sub, nil); err != ErrInvalidDigest {
				t.Fatalf("%d-of-%d: permuted indices: %v", c.k, c.n, err)
			}
		}
	}
}

func TestRS1024(t *testing.T) {
	data := []uint16{1, 2, 3, 1023, 0, 512}
	for _, ext := range []bool{false, true} {
		cs := rs1024Checksum(ext, data)
		all := append(append([]uint16(nil), data...), cs[:]...)
		if !rs1024Verify(ext, all) {
			t.Fatalf("ext=%t: checksum does not verify", ext)
		}
		if rs1024Verify(!ext, all) {
			t.Fatalf("ext=%t: checksum verifies under the other customization string", ext)
		}
	}
}
