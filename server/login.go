package server

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/userhook"
)

// Input bounds: generous for real providers, small enough that nothing
// large reaches the crypto or the provider.
const (
	maxCodeLen      = 2048
	maxStateLen     = 4096
	maxBindingLen   = 256
	minBindingLen   = 16
	maxLoginHintLen = 256
	maxIssLen       = 2048
	maxProviderLen  = 64
	maxTokenLen     = 16 << 10 // a provider ID or access token, or one of ours
)

var allowedPrompts = []string{"none", "login", "consent", "select_account", "create"}

type providerInfo struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Type        string `json:"type"`
}

func (s *Server) listProviders(c echo.Context) error {
	out := make([]providerInfo, 0, len(s.order))
	for _, name := range s.order {
		p := s.providers[name]
		out = append(out, providerInfo{Name: name, DisplayName: p.cfg.DisplayName, Type: p.cfg.OIDC.Type})
	}
	return c.JSON(http.StatusOK, map[string]any{"providers": out})
}

func (s *Server) lookupProvider(name string) (*provider, error) {
	if name == "" {
		return nil, badRequest("provider is required")
	}
	p, ok := s.providers[name]
	if !ok {
		return nil, problem(http.StatusBadRequest, CodeUnknownProvider, fmt.Sprintf("no provider named %q is configured; GET /oauth2/providers lists them", truncate(name, 64)), nil)
	}
	return p, nil
}

type urlResponse struct {
	URL       string `json:"url"`
	State     string `json:"state"`
	ExpiresIn int64  `json:"expires_in"`
}

// authorizationURL starts a login: it seals a fresh flow into the state and
// returns the provider's authorization URL.
func (s *Server) authorizationURL(c echo.Context) error {
	q := c.QueryParams()
	p, err := s.lookupProvider(q.Get("provider"))
	if err != nil {
		return err
	}
	fs := flowState{Provider: p.cfg.Name}

	redirectURI := p.cfg.RedirectURI
	if r := q.Get("redirect_uri"); r != "" {
		if !slices.Contains(p.cfg.RedirectURIs, r) {
			return problem(http.StatusBadRequest, CodeRedirectNotAllowed,
				fmt.Sprintf("redirect_uri is not one of the provider's allowed redirect URIs (%s); matching is exact", envName(p.cfg.Name, "REDIRECT_URI(S)")), nil)
		}
		redirectURI = r
		if r != p.cfg.RedirectURI {
			fs.RedirectURI = r
		}
	}
	prompt := q.Get("prompt")
	for _, v := range strings.Fields(prompt) {
		if !slices.Contains(allowedPrompts, v) {
			return badRequest("prompt must be a space-separated list of " + strings.Join(allowedPrompts, ", "))
		}
	}
	loginHint := q.Get("login_hint")
	if len(loginHint) > maxLoginHintLen || !utf8.ValidString(loginHint) {
		return badRequest(fmt.Sprintf("login_hint must be valid UTF-8 of at most %d bytes", maxLoginHintLen))
	}
	if a := q.Get("app_state"); a != "" {
		if len(a) > s.cfg.AppStateMax || !utf8.ValidString(a) {
			return badRequest(fmt.Sprintf("app_state must be valid UTF-8 of at most %d bytes (EDGEAUTH_APP_STATE_MAX)", s.cfg.AppStateMax))
		}
		fs.AppState = a
	}
	if err := s.bind(c, &fs, q.Get("binding")); err != nil {
		return err
	}

	fs.Seed = newSeed()
	state, err := s.states.Seal(purposeState, fs, s.cfg.StateTTL)
	if err != nil {
		return fmt.Errorf("seal state: %w", err)
	}
	nonce, verifier := derive(fs.Seed)
	if p.callback != "" {
		redirectURI = p.callback // form_post: the provider answers edgeauth (callback.go)
	}
	u, err := p.rp.AuthCodeURL(c.Request().Context(), oidc.AuthRequest{
		State:        state,
		Nonce:        nonce,
		CodeVerifier: verifier,
		RedirectURI:  redirectURI,
		Prompt:       prompt,
		LoginHint:    loginHint,
	})
	if err != nil {
		return providerProblem(err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return writeURLResponse(c, http.StatusOK, urlResponse{URL: u, State: state, ExpiresIn: int64(s.cfg.StateTTL / time.Second)})
}

type tokenRequest struct {
	Provider string `json:"provider"`
	Code     string `json:"code"`
	State    string `json:"state"`
	Iss      string `json:"iss"`
	Binding  string `json:"binding"`
	// User is Apple's `user` form field, passed on by the app as it came
	// (callback.go): the name in it reaches the webhook.
	User string `json:"user"`
}

const tokenShape = "{provider, code, state, iss?, binding?, user?}"

// token finishes a login: open the state, check the binding, exchange the
// code, verify the identity, and run the shared tail (webhook, mint).
func (s *Server) token(c echo.Context) error {
	var req tokenRequest
	if err := decodeJSON(c, &req, tokenShape); err != nil {
		return err
	}
	if err := checkFields(
		field{name: "provider", value: req.Provider, max: maxProviderLen},
		field{name: "code", value: req.Code, max: maxCodeLen},
		field{name: "state", value: req.State, max: maxStateLen},
		field{name: "iss", value: req.Iss, max: maxIssLen, optional: true},
		field{name: "binding", value: req.Binding, max: maxBindingLen, optional: true},
		field{name: "user", value: req.User, max: maxAppleUserLen, optional: true},
	); err != nil {
		return err
	}
	p, err := s.lookupProvider(req.Provider)
	if err != nil {
		return err
	}
	noteProvider(c, p.cfg.Name)
	var userName string
	if req.User != "" {
		if p.rp.Preset() != "apple" {
			return badRequest("user is Apple's user JSON and only for the apple preset")
		}
		if userName, err = appleUserName(req.User); err != nil {
			return err
		}
	}
	fs, err := s.openState(req.State, p)
	if err != nil {
		return err
	}
	if err := s.checkBinding(c, fs, req.Binding); err != nil {
		return err
	}

	redirectURI := p.cfg.RedirectURI
	if fs.RedirectURI != "" {
		redirectURI = fs.RedirectURI
	}
	if p.callback != "" {
		redirectURI = p.callback // what the provider was sent
	}
	nonce, verifier := derive(fs.Seed)
	ctx := c.Request().Context()
	res, err := p.rp.Exchange(ctx, oidc.ExchangeRequest{
		Code:         req.Code,
		CodeVerifier: verifier,
		RedirectURI:  redirectURI,
		Nonce:        nonce,
		Issuer:       req.Iss,
	})
	if err != nil {
		return providerProblem(err)
	}
	if res.Identity.Name == "" {
		// Apple sends the name once, unsigned, beside the code; the
		// signed ID token never has it.
		res.Identity.Name = userName
	}
	if fs.BindingMode == bindCookie {
		// This state's login is done: a new cookie makes it useless in
		// this browser, so a leaked authorization URL cannot be used to
		// log the person in as someone else (login CSRF).
		s.setBindingCookie(c, randomValue())
	}
	logoutURL, err := p.rp.LogoutURL(ctx, oidc.LogoutRequest{IDTokenHint: res.Tokens.IDToken, PostLogoutRedirectURI: p.cfg.PostLogoutRedirectURI})
	if err != nil && !isUnsupported(err) {
		s.reqLog(c).Warn("logout url", "provider", p.cfg.Name, "error", err)
	}
	t := res.Tokens
	return s.finish(c, session{
		event:           userhook.EventLogin,
		provider:        p,
		identity:        res.Identity,
		start:           s.now(),
		providerRefresh: t.RefreshToken,
	}, &providerTokens{
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		IDToken:      t.IDToken,
		RefreshToken: t.RefreshToken,
		ExpiresIn:    t.ExpiresIn,
		Scope:        t.Scope,
		LogoutURL:    logoutURL,
	}, fs.AppState)
}

// isUnsupported: the provider cannot do what was asked (no end-session or
// revocation endpoint).
func isUnsupported(err error) bool {
	oe, ok := errors.AsType[*oidc.Error](err)
	return ok && oe.Code == oidc.CodeUnsupported
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
