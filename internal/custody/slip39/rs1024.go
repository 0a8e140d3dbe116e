package slip39

// RS1024 is the checksum of SLIP-0039: a Reed-Solomon code over GF(1024)
// whose last three 10-bit symbols (words) make the polymod of
// customization string || data equal to 1. The polymod below follows the
// definition in the specification's "Checksum" section; the branch on the
// bits of the running state is replaced by a mask because the data words
// carry the (secret) share value.

const (
	csDefault    = "shamir"
	csExtendable = "shamir_extendable"
	checksumLen  = 3 // words
)

var rs1024Gen = [10]uint32{
	0xe0e040, 0x1c1c080, 0x3838100, 0x7070200, 0xe0e0009,
	0x1c0c2412, 0x38086c24, 0x3090fc48, 0x21b1f890, 0x3f3f120,
}

func rs1024Polymod(chk uint32, values []uint16) uint32 {
	for _, v := range values {
		b := chk >> 20
		chk = (chk&0xfffff)<<10 ^ uint32(v)
		for i, g := range rs1024Gen {
			chk ^= g & -((b >> i) & 1)
		}
	}
	return chk
}

func customization(extendable bool) string {
	if extendable {
		return csExtendable
	}
	return csDefault
}

func rs1024Prefix(extendable bool) uint32 {
	cs := customization(extendable)
	pre := make([]uint16, len(cs))
	for i := range len(cs) {
		pre[i] = uint16(cs[i])
	}
	return rs1024Polymod(1, pre)
}

// rs1024Verify reports whether words (data followed by the three checksum
// words) carry a valid checksum.
func rs1024Verify(extendable bool, words []uint16) bool {
	return rs1024Polymod(rs1024Prefix(extendable), words) == 1
}

// rs1024Checksum returns the three checksum words for data.
func rs1024Checksum(extendable bool, data []uint16) [checksumLen]uint16 {
	chk := rs1024Polymod(rs1024Prefix(extendable), data)
	chk = rs1024Polymod(chk, make([]uint16, checksumLen)) ^ 1
	return [checksumLen]uint16{
		uint16(chk >> 20 & 1023),
		uint16(chk >> 10 & 1023),
		uint16(chk & 1023),
	}
}
