package replicas_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/server"
	"github.com/fleetkey/fleetkey/internal/store"
)

// budgetPolicy admits exactly admitted payments per hour for the whole group.
func budgetPolicy(admitted int) string {
	return fmt.Sprintf(`version: 1
name: shared-budget
limits:
  per_payment: "1.00"
  windows:
    - window: 1h
      max_amount: "100000.00"
      max_count: %d
max_validity: 2m
`, admitted)
}

// TestGroupBudgetExactAcrossReplicas fires 600 concurrent payments at three replicas
// for 20 agents sharing a group budget that admits exactly 100: exactly 100 are
// signed, whichever replica served them, the rest are refused for the budget, and the
// one audit chain verifies.
func TestGroupBudgetExactAcrossReplicas(t *testing.T) {
	const (
		requests = 600
		admitted = 100
	)
	db, words := dbURL(t), mnemonic(t)
	rs := startReplicas(t, 3, db, words, server.DBPoolConfig{})
	_, agents := fleet(t, rs[0], 20, budgetPolicy(admitted))

	type result struct {
		replica, status int
		code            string
		err             error
	}
	results := make([]result, requests)
	bodies := make([][]byte, requests)
	for i := range bodies {
		bodies[i] = payBody(t, key(t), "10000")
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := i % len(rs)
			status, b, err := pay(rs[r], agents[i%len(agents)], bodies[i])
			results[i] = result{r, status, errorCode(b), err}
		}()
	}
	close(start)
	wg.Wait()

	signed, perReplica := 0, map[int]int{}
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Fatalf("request %d: %v", i, r.err)
		case r.status == http.StatusOK:
			signed++
			perReplica[r.replica]++
		case r.status != http.StatusForbidden:
			t.Fatalf("request %d on replica %d: %d %s", i, r.replica, r.status, r.code)
		}
	}
	if signed != admitted {
		t.Fatalf("%d payments signed across replicas, want exactly %d", signed, admitted)
	}
	if len(perReplica) < 2 {
		t.Errorf("signatures came from replicas %v only", perReplica)
	}
	if n := len(counted(t, rs[1].Store(), agents)); n != admitted {
		t.Fatalf("%d authorizations hold budget, want %d", n, admitted)
	}
	rep := verifyAudit(t, rs[2].Store(), words)
	if rep.Records < requests {
		t.Fatalf("audit chain has %d records for %d payment requests", rep.Records, requests)
	}
	t.Logf("signed per replica %v; audit chain of %d records verifies", perReplica, rep.Records)
}

// TestFreezeAndRevokePropagate freezes an agent and revokes another agent's
// credential through one replica, after every replica has served (and cached) both:
// every replica refuses both from the next request on.
func TestFreezeAndRevokePropagate(t *testing.T) {
	ctx := context.Background()
	db, words := dbURL(t), mnemonic(t)
	rs := startReplicas(t, 3, db, words, server.DBPoolConfig{})
	_, agents := fleet(t, rs[0], 2, budgetPolicy(1000))
	frozen, revoked := agents[0], agents[1]
	for i, r := range rs {
		for _, a := range agents {
			if status, b, err := pay(r, a, payBody(t, key(t), "10000")); err != nil || status != http.StatusOK {
				t.Fatalf("warm-up payment on replica %d: %d %s %v", i, status, b, err)
			}
		}
	}
	before := len(counted(t, rs[0].Store(), agents))

	if _, err := rs[1].Service().SetAgentStatus(ctx, admin, frozen.Agent.ID, store.AgentFrozen); err != nil {
		t.Fatal(err)
	}
	if _, err := rs[2].Service().RevokeCredential(ctx, admin, revoked.CredentialID); err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		status, b, err := pay(r, frozen, payBody(t, key(t), "10000"))
		if err != nil || status == http.StatusOK {
			t.Errorf("replica %d signed for a frozen agent: %d %s %v", i, status, b, err)
		}
		status, b, err = pay(r, revoked, payBody(t, key(t), "10000"))
		if err != nil || status != http.StatusUnauthorized {
			t.Errorf("replica %d with a revoked credential: %d %s %v", i, status, b, err)
		}
	}
	if after := len(counted(t, rs[0].Store(), agents)); after != before {
		t.Fatalf("%d authorizations after the freeze, %d before", after, before)
	}
	verifyAudit(t, rs[0].Store(), words)
}

// TestDatabaseOutage cuts the replicas' connections to PostgreSQL (through a TCP
// proxy) while they serve: every replica refuses to sign, nothing is stored, and
// every replica signs again by itself once the database is reachable.
func TestDatabaseOutage(t *testing.T) {
	db, words := dbURL(t), mnemonic(t)
	px := newProxy(t, target(t, db))
	rs := startReplicas(t, 3, px.url(t, db), words,
		server.DBPoolConfig{ConnectTimeout: time.Second, MaxConnLifetime: time.Minute})
	_, agents := fleet(t, rs[0], 3, budgetPolicy(1000))
	for i, r := range rs {
		if status, b, err := pay(r, agents[i], payBody(t, key(t), "10000")); err != nil || status != http.StatusOK {
			t.Fatalf("replica %d before the outage: %d %s %v", i, status, b, err)
		}
	}

	px.cut()
	for i, r := range rs {
		status, b, err := pay(r, agents[i], payBody(t, key(t), "10000"))
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusServiceUnavailable || !strings.Contains(string(b), `"code":"unavailable"`) || strings.Contains(string(b), "payment-signature") {
			t.Fatalf("replica %d during the outage: %d %s\n%s", i, status, b, r.log.String())
		}
		if !strings.Contains(r.log.String(), "postgres: ") {
			t.Errorf("replica %d logged no database error:\n%s", i, r.log.String())
		}
		// The load balancer's view: not ready, because of the database.
		res, err := client.Get(r.URL() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), `"database":"failed"`) {
			t.Errorf("replica %d /readyz during the outage: %d %s", i, res.StatusCode, b)
		}
	}

	px.restore()
	deadline := time.Now().Add(30 * time.Second)
	for i, r := range rs {
		for {
			status, b, err := pay(r, agents[i], payBody(t, key(t), "10000"))
			if err == nil && status == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %d did not recover: %d %s %v", i, status, b, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if n := len(counted(t, rs[0].Store(), agents)); n != 6 {
		t.Fatalf("%d authorizations hold budget, want the 3 before and the 3 after the outage", n)
	}
	verifyAudit(t, rs[0].Store(), words)
}

var _ = payments.Provisioned{}
