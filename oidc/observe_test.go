package oidc

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// calls records what Config.Observe is told.
type calls struct {
	mu  sync.Mutex
	got []Call
}

func (c *calls) observe(call Call) { c.mu.Lock(); defer c.mu.Unlock(); c.got = append(c.got, call) }

func (c *calls) endpoints() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, call := range c.got {
		out = append(out, call.Endpoint)
	}
	return out
}

func (c *calls) last(endpoint string) (Call, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.got) - 1; i >= 0; i-- {
		if c.got[i].Endpoint == endpoint {
			return c.got[i], true
		}
	}
	return Call{}, false
}

func TestObserveLogin(t *testing.T) {
	rec := &calls{}
	f := newFlow(t, nil, func(c *Config) { c.Observe = rec.observe; c.Userinfo = UserinfoAlways })
	if _, err := f.run(t); err != nil {
		t.Fatal(err)
	}
	want := []string{CallDiscovery, CallToken, CallJWKS, CallUserinfo}
	if got := rec.endpoints(); !slices.Equal(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	for _, e := range want {
		c, _ := rec.last(e)
		if c.Status != http.StatusOK || c.Err != nil || c.Duration <= 0 {
			t.Errorf("%s: %+v", e, c)
		}
	}

	// A refused code is an answer (no Err) with the provider's status.
	f.op.SetFaults(oidctest.Faults{TokenError: "invalid_grant"})
	if _, err := f.run(t); err == nil {
		t.Fatal("exchange succeeded")
	}
	if c, _ := rec.last(CallToken); c.Status != http.StatusBadRequest || c.Err != nil {
		t.Errorf("refused code: %+v", c)
	}
	// A provider that is down is an Err.
	f.op.SetFaults(oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.TokenEndpoint: 503}})
	if _, err := f.run(t); err == nil {
		t.Fatal("exchange succeeded")
	}
	if c, _ := rec.last(CallToken); c.Status != http.StatusServiceUnavailable || c.Err == nil {
		t.Errorf("provider down: %+v", c)
	}
}

func TestObserveRevocationAndIntrospection(t *testing.T) {
	rec := &calls{}
	f := newFlow(t, nil, func(c *Config) { c.Observe = rec.observe })
	res, err := f.run(t)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.p.Revoke(t.Context(), res.Tokens.RefreshToken, "refresh_token"); err != nil {
		t.Fatal(err)
	}
	if c, ok := rec.last(CallRevocation); !ok || c.Status != http.StatusOK || c.Err != nil {
		t.Errorf("revocation: %+v", c)
	}
	if _, err := f.p.Convert(t.Context(), ConvertRequest{Token: res.Tokens.AccessToken, TokenType: "access_token"}); err != nil {
		t.Logf("convert: %v", err) // the token was revoked with its grant: a refusal is fine here
	}
	if c, ok := rec.last(CallIntrospection); !ok || c.Status != http.StatusOK {
		t.Errorf("introspection: %+v", c)
	}
}

func TestObserveDiscoveryFailure(t *testing.T) {
	rec := &calls{}
	f := newFlow(t, nil, func(c *Config) { c.Observe = rec.observe })
	f.op.SetFaults(oidctest.Faults{DiscoveryIssuer: f.op.Issuer() + "/"})
	err := f.p.Discover(t.Context())
	if c, _ := rec.last(CallDiscovery); c.Status != http.StatusOK || c.Err == nil {
		t.Errorf("an issuer mismatch is a failed discovery: %+v", c)
	}
	oe := wantError(t, err, CodeUnavailable, "discovery_issuer")
	mm, ok := errors.AsType[*IssuerMismatchError](err)
	if !ok {
		t.Fatalf("cause %v is no IssuerMismatchError", oe.Err)
	}
	if mm.Expected != f.op.Issuer() || mm.Got != f.op.Issuer()+"/" || !mm.TrailingSlash() {
		t.Errorf("%+v trailing slash %v", mm, mm.TrailingSlash())
	}
	if !strings.HasPrefix(oe.Detail, "discovery: issuer: expected ") || strings.Contains(oe.Detail, mm.Got+`"`) {
		t.Errorf("the client's detail names the provider's issuer: %q", oe.Detail)
	}
	if (&IssuerMismatchError{Expected: "https://a", Got: "https://b/"}).TrailingSlash() {
		t.Error("another host is not a trailing slash")
	}
}

func TestEndpointsAndKeys(t *testing.T) {
	f := newFlow(t, nil, nil)
	eps, err := f.p.Endpoints(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	base := f.op.Issuer()
	want := Endpoints{
		Authorization: base + "/authorize", Token: base + "/token", Userinfo: base + "/userinfo", JWKS: base + "/jwks",
		Revocation: base + "/revoke", EndSession: base + "/logout", Introspection: base + "/introspect", IssParameter: true,
	}
	if eps != want {
		t.Errorf("endpoints\n got %+v\nwant %+v", eps, want)
	}
	if n, err := f.p.Keys(t.Context()); err != nil || n != 1 {
		t.Errorf("keys: %d %v", n, err)
	}
}
