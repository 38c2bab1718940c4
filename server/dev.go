package server

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"github.com/edgeauth/edgeauth/statecodec"
)

// DevProviderName is the embedded provider of `edgeauth dev`.
const DevProviderName = "dev"

// DevClient is the embedded provider's only client, as edgeauth knows it.
type DevClient struct {
	Issuer                string
	ClientID              string
	ClientSecret          string
	RedirectURI           string
	PostLogoutRedirectURI string
}

//go:embed demo.html
var demoHTML []byte

// addDevProvider adds the embedded provider, served by this process at
// PUBLIC_URL/dev/op, with a client secret made for this run.
func (cfg *Config) addDevProvider(ps *problems) {
	for _, p := range cfg.Providers {
		if p.Name == DevProviderName {
			ps.add("EDGEAUTH_PROVIDERS", "%q is reserved for the embedded provider in dev mode", DevProviderName)
			return
		}
	}
	secret := make([]byte, 24)
	_, _ = rand.Read(secret) // crypto/rand.Read never fails (Go 1.24+)
	cfg.Dev = &DevClient{
		Issuer:                cfg.PublicURL + "/dev/op",
		ClientID:              "edgeauth-dev",
		ClientSecret:          base64.RawURLEncoding.EncodeToString(secret),
		RedirectURI:           cfg.PublicURL + "/callback",
		PostLogoutRedirectURI: cfg.PublicURL + "/",
	}
	cfg.Providers = append([]ProviderConfig{{
		Name:                   DevProviderName,
		DisplayName:            "Dev provider (any email)",
		RedirectURI:            cfg.Dev.RedirectURI,
		RedirectURIs:           []string{cfg.Dev.RedirectURI},
		PostLogoutRedirectURI:  cfg.Dev.PostLogoutRedirectURI,
		PostLogoutRedirectURIs: []string{cfg.Dev.PostLogoutRedirectURI},
		OIDC: oidc.Config{
			Name:         DevProviderName,
			Type:         "oidc",
			Issuer:       cfg.Dev.Issuer,
			ClientID:     cfg.Dev.ClientID,
			ClientSecret: cfg.Dev.ClientSecret,
		},
	}}, cfg.Providers...)
}

// NewDevOP makes the embedded OpenID Provider for the dev client, to pass
// as Options.DevOP.
func NewDevOP(d *DevClient) (http.Handler, error) {
	op, err := oidctest.New(oidctest.Options{
		Issuer: d.Issuer,
		Clients: []oidctest.Client{{
			ID:                     d.ClientID,
			Secret:                 d.ClientSecret,
			Name:                   "edgeauth dev demo",
			RedirectURIs:           []string{d.RedirectURI},
			PostLogoutRedirectURIs: []string{d.PostLogoutRedirectURI},
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("embedded provider: %w", err)
	}
	return op, nil
}

// demoPage serves the dev-mode page: a login button per provider, and, on
// the way back (/callback), the tokens and their decoded claims, or the
// code, state and iss when the login was started elsewhere (curl). It
// carries PUBLIC_URL, so that opened at another origin it says where to go.
func (s *Server) demoPage(c echo.Context) error {
	c.Response().Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
	page := bytes.Replace(demoHTML, []byte("{{PUBLIC_URL}}"), []byte(html.EscapeString(s.cfg.PublicURL)), 1)
	return c.HTMLBlob(http.StatusOK, page)
}

// devKeys gives dev mode keys and an issuer of its own, whatever the
// environment holds: a dev server that signed with production keys would
// mint tokens a production API accepts, for anyone who types an email.
func (cfg *Config) devKeys(g *globalEnv, ps *problems) {
	for name, v := range map[string]string{
		"EDGEAUTH_STATE_KEYS": g.StateKeys, "EDGEAUTH_SIGNING_KEYS": g.SigningKeys,
		"EDGEAUTH_TOKEN_ISSUER": g.TokenIssuer, "EDGEAUTH_TOKEN_AUDIENCE": g.TokenAudience,
	} {
		if v != "" {
			cfg.Ignored = append(cfg.Ignored, name)
		}
	}
	slices.Sort(cfg.Ignored)
	k, _, err := statecodec.GenerateKey()
	if err != nil {
		ps.add("EDGEAUTH_STATE_KEYS", "generate: %v", err)
	}
	cfg.StateKeys = []statecodec.Key{k}
	raw, err := apitoken.GenerateSigningKey("ES256")
	if err == nil {
		cfg.SigningKeys, err = apitoken.ParseSigningKeys(string(raw))
	}
	if err != nil {
		ps.add("EDGEAUTH_SIGNING_KEYS", "generate: %v", err)
	}
	cfg.TokenIssuer, cfg.TokenAudience = cfg.PublicURL, cfg.PublicURL
}
