package slip39

import (
	"crypto/pbkdf2"
	"crypto/sha256"
)

// The master secret is encrypted with a four-round Feistel network whose
// round function is PBKDF2-HMAC-SHA256 (SLIP-0039 "Encryption of the master
// secret"):
//
//	F(i, R) = PBKDF2(password = i || passphrase, salt = salt_prefix || R,
//	                 iterations = 2500 << e, dkLen = n/2)
//
// with salt_prefix = "shamir" || id (big-endian) when ext = 0 and empty
// when ext = 1. Encryption runs rounds 0..3, decryption 3..0, and both
// output R || L.
//
// crypto/pbkdf2 takes the password as a string and keeps its own copies of
// password and salt inside the HMAC state; those copies cannot be wiped
// from here. The buffers this file allocates are wiped.

const baseIterations = 10000 / 4 // per round; total 10000 << e

func feistel(in, passphrase []byte, e int, id uint16, ext, decrypt bool) ([]byte, error) {
	half := len(in) / 2
	l := make([]byte, half)
	r := make([]byte, half)
	copy(l, in[:half])
	copy(r, in[half:])
	defer clear(l)
	defer clear(r)

	var prefix []byte
	if !ext {
		prefix = []byte{'s', 'h', 'a', 'm', 'i', 'r', byte(id >> 8), byte(id)}
	}
	salt := make([]byte, len(prefix)+half)
	copy(salt, prefix)
	defer clear(salt)
	pw := make([]byte, 1+len(passphrase))
	copy(pw[1:], passphrase)
	defer clear(pw)

	for step := range 4 {
		round := byte(step)
		if decrypt {
			round = byte(3 - step)
		}
		pw[0] = round
		copy(salt[len(prefix):], r)
		f, err := pbkdf2.Key(sha256.New, string(pw), salt, baseIterations<<e, half)
		if err != nil {
			return nil, err
		}
		for i := range l {
			l[i] ^= f[i]
		}
		clear(f)
		l, r = r, l
	}
	out := make([]byte, 0, len(in))
	out = append(out, r...)
	return append(out, l...), nil
}
