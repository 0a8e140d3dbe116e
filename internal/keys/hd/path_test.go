package hd

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	const h = HardenedOffset
	tests := []struct {
		in        string
		want      Path
		canonical string
	}{
		{"m", Path{}, "m"},
		{"m/0", Path{0}, "m/0"},
		{"m/44'/60'/0'/0/0", Path{44 + h, 60 + h, h, 0, 0}, "m/44'/60'/0'/0/0"},
		{"m/44h/60H/1'/2h/3H", Path{44 + h, 60 + h, 1 + h, 2 + h, 3 + h}, "m/44'/60'/1'/2'/3'"},
		{"m/2147483647", Path{h - 1}, "m/2147483647"},
		{"m/2147483647'", Path{0xffffffff}, "m/2147483647'"},
		{"m" + strings.Repeat("/1", MaxDepth), func() Path {
			p := make(Path, MaxDepth)
			for i := range p {
				p[i] = 1
			}
			return p
		}(), "m" + strings.Repeat("/1", MaxDepth)},
	}
	for _, tc := range tests {
		got, err := ParsePath(tc.in)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParsePath(%q) = %v, want %v", tc.in, []uint32(got), []uint32(tc.want))
		}
		if got.String() != tc.canonical {
			t.Errorf("ParsePath(%q).String() = %q, want %q", tc.in, got.String(), tc.canonical)
		}
	}
}

func TestParsePathErrors(t *testing.T) {
	tests := []struct{ in, wantMsg string }{
		{"", "empty"},
		{"44'/60'", `must start with "m"`},
		{"M/0", `must start with "m"`},
		{"/0", `must start with "m"`},
		{"m0", `must start with "m"`},
		{"m/", "segment 1: missing index"},
		{"m//0", "segment 1: missing index"},
		{"m/0/", "segment 2: missing index"},
		{"m/'", "segment 1: missing index"},
		{"m/0''", `segment 1: "0'" is not a decimal index`},
		{"m/x", `segment 1: "x" is not a decimal index`},
		{"m/-1", `segment 1: "-1" is not a decimal index`},
		{"m/+1", `segment 1: "+1" is not a decimal index`},
		{"m/ 1", `segment 1: " 1" is not a decimal index`},
		{"m/1p", `segment 1: "1p" is not a decimal index`},
		{"m/0x10", `segment 1: "0x10" is not a decimal index`},
		{"m/01", `segment 1: "01" has a leading zero`},
		{"m/2147483648", "segment 1: index 2147483648 is not below 2^31"},
		{"m/0/2147483648'", "segment 2: index 2147483648 is not below 2^31"},
		{"m/4294967296", "segment 1: index 4294967296 is not below 2^31"},
		{"m/99999999999999999999999", "segment 1: index 99999999999999999999999 is not below 2^31"},
		{"m" + strings.Repeat("/0", MaxDepth+1), "depth 256 exceeds 255"},
	}
	for _, tc := range tests {
		_, err := ParsePath(tc.in)
		if !errors.Is(err, ErrInvalidPath) {
			t.Errorf("ParsePath(%q) err = %v, want ErrInvalidPath", tc.in, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantMsg) {
			t.Errorf("ParsePath(%q) err = %q, want it to contain %q", tc.in, err, tc.wantMsg)
		}
	}
}

func TestAgentPath(t *testing.T) {
	p, err := AgentPath(3, 1000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.String(); got != "m/44'/60'/3'/1000'/2'" {
		t.Errorf("AgentPath = %s", got)
	}
	for i, idx := range p {
		if idx < HardenedOffset {
			t.Errorf("level %d is not hardened", i+1)
		}
	}
	if p, err := AgentPath(HardenedOffset-1, HardenedOffset-1, HardenedOffset-1); err != nil || p.String() != "m/44'/60'/2147483647'/2147483647'/2147483647'" {
		t.Errorf("max AgentPath = %v, %v", p, err)
	}
	for _, tc := range []struct {
		f, a, g uint32
		name    string
	}{
		{HardenedOffset, 0, 0, "fleet"},
		{0, HardenedOffset, 0, "agent"},
		{0, 0, 0xffffffff, "generation"},
	} {
		_, err := AgentPath(tc.f, tc.a, tc.g)
		if !errors.Is(err, ErrInvalidPath) || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("AgentPath(%d, %d, %d) err = %v, want ErrInvalidPath naming %s", tc.f, tc.a, tc.g, err, tc.name)
		}
	}
}
