package slip39

// Arithmetic in GF(2^8) with the Rijndael reduction polynomial
// x^8 + x^4 + x^3 + x + 1 (0x11b), as SLIP-0039 requires.
//
// Share values are secret, so every operation that touches them must take
// the same time whatever the operands are. The common log/exp-table
// implementation indexes memory with secret bytes, which leaks through the
// cache; this file therefore uses no tables and no secret-dependent branches:
//
//   - gfMul is the schoolbook shift-and-add ("Russian peasant") product. It
//     always runs eight rounds; in round i the partial product gets a XOR-ed
//     in only under a mask derived from bit i of b (0x00 or 0xff), and the
//     shifted a is reduced by 0x1b under a mask derived from its top bit. Masks
//     replace the two data-dependent "if"s of the textbook loop.
//   - gfInv uses Fermat's little theorem in the multiplicative group of order
//     255: a^-1 = a^254. The exponent is the public constant 254 = 0b11111110,
//     so the chain of seven squarings and six multiplications is fixed and
//     independent of a (and maps 0 to 0, which callers never rely on).
//
// Addition and subtraction are both XOR.

// gfMul returns a·b in GF(2^8) in constant time.
func gfMul(a, b byte) byte {
	var p byte
	for range 8 {
		p ^= a & -(b & 1)
		carry := -(a >> 7)
		a = a<<1 ^ 0x1b&carry
		b >>= 1
	}
	return p
}

// gfInv returns a^-1 (a^254) in GF(2^8) in constant time; gfInv(0) = 0.
func gfInv(a byte) byte {
	a2 := gfMul(a, a)      // a^2
	a4 := gfMul(a2, a2)    // a^4
	a8 := gfMul(a4, a4)    // a^8
	a16 := gfMul(a8, a8)   // a^16
	a32 := gfMul(a16, a16) // a^32
	a64 := gfMul(a32, a32) // a^64
	a128 := gfMul(a64, a64)
	r := gfMul(a2, a4)
	r = gfMul(r, a8)
	r = gfMul(r, a16)
	r = gfMul(r, a32)
	r = gfMul(r, a64)
	return gfMul(r, a128) // a^(2+4+8+16+32+64+128) = a^254
}

// point is one evaluation of the byte-wise polynomials: x is the public
// share index, y the n secret values f_1(x) … f_n(x).
type point struct {
	x byte
	y []byte
}

// interpolate writes into out the values at x of the polynomials of lowest
// degree through pts (Lagrange form, SLIP-0039 "Interpolate"). The x values
// of pts must be pairwise distinct and every y as long as out. The Lagrange
// basis weights depend only on the public indices; the secret y bytes are
// only ever multiplied by them with gfMul.
func interpolate(out []byte, x byte, pts []point) {
	clear(out)
	for i, pi := range pts {
		num, den := byte(1), byte(1)
		for j, pj := range pts {
			if j == i {
				continue
			}
			num = gfMul(num, x^pj.x)
			den = gfMul(den, pi.x^pj.x)
		}
		w := gfMul(num, gfInv(den))
		for k, v := range pi.y {
			out[k] ^= gfMul(v, w)
		}
	}
}
