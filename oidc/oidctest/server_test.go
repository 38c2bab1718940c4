package oidctest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestNewTLSServer(t *testing.T) {
	op := NewTLSServer(testOptions())
	defer op.Close()
	if !strings.HasPrefix(op.Issuer(), "https://127.0.0.1:") || op.Issuer() != op.URL {
		t.Fatalf("issuer %q, URL %q", op.Issuer(), op.URL)
	}
	if a := get(t, op, op.EndpointURL(DiscoveryEndpoint), nil); a.status != http.StatusOK || a.str("issuer") != op.Issuer() {
		t.Errorf("discovery over TLS: %d %s", a.status, a.raw)
	}
	if a := tokensFor(t, op, Faults{}); a.status != http.StatusOK {
		t.Errorf("token over TLS: %d %s", a.status, a.raw)
	}
}

func TestNewServerPanicsOnBadOptions(t *testing.T) {
	for _, o := range []Options{{}, {Issuer: "%zz", Clients: testOptions().Clients}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewServer(%+v) did not panic", o)
				}
			}()
			NewServer(o).Close()
		}()
	}
}

func TestMethodsAndEmptyEntries(t *testing.T) {
	op := newTestServer(t, func(o *Options) {
		o.Clients[0].PostLogoutRedirectURIs = append(o.Clients[0].PostLogoutRedirectURIs, "")
	})
	tests := []struct {
		method string
		e      Endpoint
		status int
	}{
		{http.MethodPost, DiscoveryEndpoint, 405},
		{http.MethodDelete, JWKSEndpoint, 405},
		{http.MethodPut, UserinfoEndpoint, 405},
		{http.MethodGet, RevocationEndpoint, 405},
		{http.MethodPut, EndSessionEndpoint, 405},
		{http.MethodHead, DiscoveryEndpoint, 200},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(tc.method, op.EndpointURL(tc.e), nil)
		if a := do(t, op, req); a.status != tc.status || (tc.status == 405 && a.header.Get("Allow") == "") {
			t.Errorf("%s %s: %d (Allow %q), want %d", tc.method, tc.e, a.status, a.header.Get("Allow"), tc.status)
		}
	}
	// end_session by form post.
	form := url.Values{"client_id": {testClient}, "post_logout_redirect_uri": {"https://app.example/bye"}}
	req, _ := http.NewRequest(http.MethodPost, op.EndpointURL(EndSessionEndpoint), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if a := do(t, op, req); a.status != http.StatusFound || a.header.Get("Location") != "https://app.example/bye" {
		t.Errorf("POST logout: %d %q", a.status, a.header.Get("Location"))
	}
	if a := get(t, op, op.EndpointURL(EndSessionEndpoint)+"?client_id="+testClient+"&post_logout_redirect_uri=", nil); a.status != http.StatusOK {
		t.Errorf("empty post_logout_redirect_uri: %d", a.status)
	}
}

func TestAuthErrorMessage(t *testing.T) {
	e := &AuthError{Code: "access_denied", Description: "no"}
	if got := e.Error(); got != "oidctest: authorization error access_denied: no" {
		t.Errorf("%q", got)
	}
	if got := truncate(strings.Repeat("é", 80)); !strings.HasSuffix(got, "…") || len(got) > 110 {
		t.Errorf("truncate: %q", got)
	}
}
