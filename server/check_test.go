package server

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		name    string
		faults  func(issuer string) oidctest.Faults
		wantErr bool
		want    []string
		not     []string
	}{
		{
			name: "reachable",
			want: []string{"op           ok    discovery ok; jwks 1 key(s); token {iss}/token; userinfo {iss}/userinfo; revocation {iss}/revoke; end_session {iss}/logout; introspection {iss}/introspect", "configuration ok"},
		},
		{
			name: "down",
			faults: func(string) oidctest.Faults {
				return oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.DiscoveryEndpoint: http.StatusServiceUnavailable}}
			},
			wantErr: true,
			want:    []string{"op           FAIL  ", "provider answered HTTP 503"},
			not:     []string{"configuration ok"},
		},
		{
			name: "JWKS down",
			faults: func(string) oidctest.Faults {
				return oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.JWKSEndpoint: http.StatusInternalServerError}}
			},
			wantErr: true,
			want:    []string{"FAIL  oidc: provider_unavailable: jwks: provider answered HTTP 500"},
		},
		{
			name:    "issuer with a trailing slash",
			faults:  func(iss string) oidctest.Faults { return oidctest.Faults{DiscoveryIssuer: iss + "/"} },
			wantErr: true,
			want:    []string{`issuer mismatch: configured "{iss}", the provider names "{iss}/"`, "differ only by a trailing slash", "EDGEAUTH_OP_ISSUER"},
		},
		{
			name:    "another issuer",
			faults:  func(string) oidctest.Faults { return oidctest.Faults{DiscoveryIssuer: "https://elsewhere.example"} },
			wantErr: true,
			want:    []string{`issuer mismatch: configured "{iss}", the provider names "https://elsewhere.example"`},
			not:     []string{"trailing slash"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if tc.faults != nil {
				h.op.SetFaults(tc.faults(h.op.Issuer()))
			}
			var out bytes.Buffer
			err := Check(t.Context(), h.cfg, nil, &out)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Check: %v\n%s", err, &out)
			}
			got := out.String()
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "{iss}", h.op.Issuer()); !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("output has %q:\n%s", n, got)
				}
			}
			if strings.Contains(got, testClientSecret) {
				t.Errorf("the client secret reached the output:\n%s", got)
			}
		})
	}
}
