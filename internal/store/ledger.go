package store

import (
	"errors"
	"fmt"
)

// The helpers below hold the backend-independent half of the ledger rule, so that
// every backend validates and decides reservations identically.

// NormalizeReservation validates a reservation request and normalizes the
// authorization's addresses and nonce in place.
func NormalizeReservation(a *Authorization, r ReserveRequest) error {
	switch {
	case r.Now.IsZero():
		return errors.New("store: reservation time is zero")
	case a.AgentID == "" || a.KeyID == "":
		return errors.New("store: reservation needs an agent and a key")
	case a.IdempotencyKey == "":
		return errors.New("store: reservation needs an idempotency key")
	case a.Network == "":
		return errors.New("store: reservation needs a network")
	case a.AmountMicro < 0:
		return fmt.Errorf("store: negative amount %d", a.AmountMicro)
	case !isDecimal(a.AmountAtomic):
		return fmt.Errorf("store: atomic amount %q is not a decimal integer", a.AmountAtomic)
	case a.ValidBefore.IsZero() || !a.ValidBefore.After(a.ValidAfter):
		return errors.New("store: validBefore must be after validAfter")
	case a.RequirementIndex < 0:
		return fmt.Errorf("store: negative requirement index %d", a.RequirementIndex)
	case len(a.Demand) > 0 && a.DemandVersion != 1 && a.DemandVersion != 2:
		return fmt.Errorf("store: demand of x402 version %d", a.DemandVersion)
	case len(a.Demand) == 0 && a.DemandVersion != 0:
		return errors.New("store: demand version without a demand")
	case (r.Signed.Name == "") != (r.Signed.Value == ""):
		return errors.New("store: signed response needs a header name and value")
	}
	var err error
	if a.Asset, err = NormalizeAddress(a.Asset); err != nil {
		return err
	}
	if a.PayTo, err = NormalizeAddress(a.PayTo); err != nil {
		return err
	}
	if a.Nonce, err = NormalizeNonce(a.Nonce); err != nil {
		return err
	}
	a.ValidAfter, a.ValidBefore = a.ValidAfter.UTC(), a.ValidBefore.UTC()
	for _, w := range r.Windows {
		if !w.Level.Valid() {
			return fmt.Errorf("store: window level %q is invalid", w.Level)
		}
		if w.Window <= 0 {
			return fmt.Errorf("store: window %s is not positive", w.Window)
		}
	}
	return nil
}

func isDecimal(s string) bool {
	if s == "" || len(s) > 78 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// SameRequest reports whether b, a new request under an existing idempotency key, asks
// for the same payment as the stored a. Fields fleetkey chooses itself (nonce,
// validity, identifiers) are not compared.
func SameRequest(a, b Authorization) bool {
	return a.KeyID == b.KeyID && a.Network == b.Network && a.Asset == b.Asset && a.PayTo == b.PayTo &&
		a.Origin == b.Origin && a.ResourceURL == b.ResourceURL && a.AmountAtomic == b.AmountAtomic &&
		a.AmountMicro == b.AmountMicro
}

// CheckWindowScope refuses a window whose scope is not the authorization's own fleet,
// group or agent: such a window would not count the authorization it admits.
func CheckWindowScope(w WindowLimit, a Authorization) error {
	var want string
	switch w.Level {
	case LevelFleet:
		want = a.FleetID
	case LevelGroup:
		want = a.GroupID
	case LevelAgent:
		want = a.AgentID
	}
	if want == "" || w.ScopeID != want {
		return fmt.Errorf("store: %s window scope %q is not the authorization's %s %q", w.Level, w.ScopeID, w.Level, want)
	}
	return nil
}

// CheckWindow decides one window: spent is its total before the new authorization of
// amount micro-units.
func CheckWindow(w WindowLimit, spent Spend, amount int64) error {
	if w.MaxAmountMicro >= 0 && spent.AmountMicro > w.MaxAmountMicro-amount {
		return &BudgetError{Window: w, Kind: "amount", Spent: spent, RequestedMicro: amount}
	}
	if w.MaxCount >= 0 && spent.Count >= w.MaxCount {
		return &BudgetError{Window: w, Kind: "count", Spent: spent, RequestedMicro: amount}
	}
	return nil
}
