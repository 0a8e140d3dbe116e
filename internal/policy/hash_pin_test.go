package policy

import (
	"os"
	"testing"
)

// pinnedPolicies are policy texts whose content hashes were recorded before the
// rotation section existed. A policy's hash is what every stored version, decision and
// audit record names, so adding an optional section must leave the hash of every policy
// that does not use it as it was.
var pinnedPolicies = []struct {
	name, src, hash string
}{
	{"minimal", "version: 1\nname: minimal\n", "sha256:1c7e584ecab71bfcec5286b41a100f60ab786a47a3c113b772303cd9ebcb9c41"},
	{"limits", `version: 1
name: budget
description: small budget
limits:
  per_payment: "0.10"
  windows:
    - window: 24h
      max_amount: 5
    - window: 60m
      max_count: 100
allow_http: true
max_validity: 90s
rate:
  max_requests_per_minute: 10
`, "sha256:d425dbdba71972869375872a81d82ee594332cb76efff6761929fa77a0ce17f6"},
	{"lists-and-approval", `version: 1
name: lists
allow:
  pay_to: ["0x000000000000000000000000000000000000bEEF"]
  networks: ["eip155:84532"]
deny:
  origins: ["*.ads.example"]
time_of_day:
  - from: "09:00"
    to: "00:00"
approval:
  above: 1
  quorum: 1
  approvers: [ops]
cel:
  - name: small
    expr: request.amount < micro("1")
`, "sha256:e968e699c2333936647b441e84f59cb0d4874a8a3189cc78ba50b4e0a33123c7"},
}

func TestHashesPinned(t *testing.T) {
	example, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := append(pinnedPolicies, struct{ name, src, hash string }{"testdata/example.yaml", string(example), "sha256:f3154fac32521577fbfe69b1a1515e0df8e18dce8e1cd9074d293e411f6bf086"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustParse(t, c.src)
			if p.Hash() != c.hash {
				t.Errorf("hash %s, pinned %s\ncanonical: %s", p.Hash(), c.hash, p.Canonical())
			}
		})
	}
}
