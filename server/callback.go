package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/statecodec"
)

// The form_post callback (OAuth 2.0 Form Post Response Mode). A provider
// whose authorization requests carry response_mode=form_post (Apple, as
// soon as the name or email scope is asked for) answers with a POST from
// the browser. An SPA cannot receive a POST, so edgeauth does: the
// provider's redirect URI is edgeauth's own
// <PUBLIC_URL>/oauth2/callback/<provider>, which opens the state and
// answers 303 See Other to the app's redirect URI for that flow with the
// response in the query. The code exchange then repeats the callback URL
// as redirect_uri (RFC 6749 §4.1.3), since that is what the provider saw.
//
// No binding is checked here: the POST comes from the provider's site, so
// a SameSite=Lax binding cookie is not sent with it. The binding is
// checked where it always is, at /oauth2/token, which the app calls from
// its own origin. Without a valid state for this provider nothing is
// redirected anywhere: the callback is no open redirector, and it only
// ever sends the browser to a redirect URI that /oauth2/url allow-listed
// and sealed into the state.

// Limits of what the callback passes on.
const (
	maxAppleUserLen       = 1024 // Apple's user JSON: two names and an address
	maxAppleNamePartRunes = 128
	maxErrorLen           = 64
	maxErrorDescLen       = 512
)

// callbackURI is the redirect URI a provider is sent instead of the app's
// when it answers with form_post, "" for every other provider: computed
// once at start-up from the provider's resolved settings.
func callbackURI(publicURL, name string, rp *oidc.Provider) string {
	if !rp.FormPost() {
		return ""
	}
	return strings.TrimRight(publicURL, "/") + "/oauth2/callback/" + name
}

// openState opens a flow state for provider p, mapping every failure to
// its problem: expired, not ours (or altered), or another provider's.
func (s *Server) openState(raw string, p *provider) (flowState, error) {
	var fs flowState
	if err := s.states.Open(purposeState, raw, &fs); err != nil {
		s.metrics.stateRejected(err)
		if errors.Is(err, statecodec.ErrExpired) {
			return fs, problem(http.StatusBadRequest, CodeExpiredState, fmt.Sprintf("the login took longer than %s; start it again with GET /oauth2/url", s.cfg.StateTTL), nil)
		}
		return fs, problem(http.StatusBadRequest, CodeInvalidState, "state was not issued by this service, was altered, or was sealed with a key it no longer has", nil)
	}
	if fs.Provider != p.cfg.Name {
		return fs, problem(http.StatusBadRequest, CodeProviderMismatch, fmt.Sprintf("state was issued for provider %q, not %q: post the provider whose redirect URI received the answer", fs.Provider, p.cfg.Name), nil)
	}
	return fs, nil
}

// formCallback receives a form_post authorization response and sends the
// browser on to the app with it in the query.
func (s *Server) formCallback(c echo.Context) error {
	p, ok := s.providers[c.Param("provider")]
	if !ok || p.callback == "" {
		return problem(http.StatusNotFound, CodeUnknownProvider, "no provider with a form_post callback has this name", nil)
	}
	noteProvider(c, p.cfg.Name)
	if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationForm {
		return problem(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "the provider's answer comes as application/x-www-form-urlencoded", nil)
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return problem(http.StatusBadRequest, CodeInvalidRequest, "could not read the body", err)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return badRequest("the body is not a valid form")
	}
	for _, k := range []string{"code", "state", "iss", "user", "error", "error_description"} {
		if len(form[k]) > 1 {
			return badRequest(k + " is given more than once")
		}
	}
	if err := checkFields(
		field{name: "state", value: form.Get("state"), max: maxStateLen},
		field{name: "code", value: form.Get("code"), max: maxCodeLen, optional: true},
		field{name: "iss", value: form.Get("iss"), max: maxIssLen, optional: true},
		field{name: "user", value: form.Get("user"), max: maxAppleUserLen, optional: true},
		field{name: "error", value: form.Get("error"), max: maxErrorLen, optional: true},
	); err != nil {
		return err
	}
	// The state first: nothing below happens for a response to a flow
	// this service did not start for this provider.
	fs, err := s.openState(form.Get("state"), p)
	if err != nil {
		return err
	}
	q := url.Values{"state": {form.Get("state")}}
	switch {
	case form.Get("error") != "":
		if !isErrorCode(form.Get("error")) {
			return badRequest("error is not an OAuth error code")
		}
		q.Set("error", form.Get("error"))
		if d := form.Get("error_description"); d != "" && len(d) <= maxErrorDescLen && isErrorDescription(d) {
			q.Set("error_description", d)
		}
	case form.Get("code") == "":
		return badRequest("the provider's answer has neither code nor error")
	default:
		q.Set("code", form.Get("code"))
		if u := form.Get("user"); u != "" {
			if !utf8.ValidString(u) {
				return badRequest("user must be valid UTF-8")
			}
			q.Set("user", u)
		}
	}
	if iss := form.Get("iss"); iss != "" {
		q.Set("iss", iss)
	}
	target := p.cfg.RedirectURI
	if fs.RedirectURI != "" {
		target = fs.RedirectURI
	}
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("redirect uri of %s: %w", p.cfg.Name, err)
	}
	merged := u.Query()
	for k, v := range q {
		merged[k] = v
	}
	u.RawQuery = merged.Encode()
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	return c.Redirect(http.StatusSeeOther, u.String())
}

// isErrorCode: RFC 6749 §4.1.2.1 error values, as a token.
func isErrorCode(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return s != ""
}

// isErrorDescription: RFC 6749 §4.1.2.1 allows %x20-21 / %x23-5B / %x5D-7E.
func isErrorDescription(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appleUser is the `user` form field Apple posts on the first
// authorization only: {"name":{"firstName","lastName"},"email"}. It is
// not signed: edgeauth takes the name from it (Apple's ID token has none)
// and never the email, which comes from the ID token.
type appleUser struct {
	Name *struct {
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
	} `json:"name"`
	Email string `json:"email"`
}

// appleUserName reads the name out of the `user` value an app passes to
// /oauth2/token: one JSON object of Apple's shape, nothing more, each
// name part plain text of at most maxAppleNamePartRunes runes.
func appleUserName(raw string) (string, error) {
	const shape = `user must be Apple's user JSON, as posted: {"name":{"firstName":…,"lastName":…},"email":…}`
	if len(raw) > maxAppleUserLen || !utf8.ValidString(raw) {
		return "", badRequest(fmt.Sprintf("user must be valid UTF-8 of at most %d bytes", maxAppleUserLen))
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	var u appleUser
	if err := dec.Decode(&u); err != nil {
		return "", badRequest(shape)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", badRequest(shape)
	}
	if u.Name == nil {
		return "", nil
	}
	parts := make([]string, 0, 2)
	for _, part := range []string{u.Name.FirstName, u.Name.LastName} {
		part = strings.TrimSpace(part)
		if utf8.RuneCountInString(part) > maxAppleNamePartRunes || strings.ContainsFunc(part, func(r rune) bool {
			return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
		}) {
			return "", badRequest(fmt.Sprintf("user: each name part must be plain text of at most %d characters", maxAppleNamePartRunes))
		}
		if part != "" {
			parts = append(parts, part)
		}
	}
	return strings.Join(parts, " "), nil
}
