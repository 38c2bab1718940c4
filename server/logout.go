package server

import (
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/edgeauth/edgeauth/oidc"
)

type revokeRequest struct {
	Provider      string `json:"provider"`
	Token         string `json:"token"`
	TokenTypeHint string `json:"token_type_hint"`
}

const revokeShape = "{provider, token, token_type_hint?}"

// revoke asks the provider to revoke a token (RFC 7009). The token is a
// provider token, or one of our refresh tokens: then the provider refresh
// token sealed inside is revoked, which ends the session at its next
// refresh (our refresh tokens themselves cannot be revoked without
// storage; they expire).
func (s *Server) revoke(c echo.Context) error {
	var req revokeRequest
	if err := decodeJSON(c, &req, revokeShape); err != nil {
		return err
	}
	if err := checkFields(
		field{name: "provider", value: req.Provider, max: maxProviderLen},
		field{name: "token", value: req.Token, max: maxTokenLen},
		field{name: "token_type_hint", value: req.TokenTypeHint, max: 32, optional: true},
	); err != nil {
		return err
	}
	if req.TokenTypeHint != "" && !slices.Contains([]string{"access_token", "refresh_token"}, req.TokenTypeHint) {
		return badRequest("token_type_hint must be access_token or refresh_token (RFC 7009 §2.1), or absent")
	}
	p, err := s.lookupProvider(req.Provider)
	if err != nil {
		return err
	}
	token, hint := req.Token, req.TokenTypeHint
	switch sess, err := s.refresh.Open(req.Token); {
	case err == nil:
		switch {
		case sess.Provider != p.cfg.Name:
			return problem(http.StatusBadRequest, CodeProviderMismatch, "this refresh token belongs to a session of another provider", nil)
		case sess.ProviderRefresh == "":
			return problem(http.StatusBadRequest, CodeUnsupportedOperation, "this session holds no provider refresh token to revoke; edgeauth's own refresh tokens cannot be revoked without storage and expire after EDGEAUTH_REFRESH_TTL", nil)
		}
		token, hint = sess.ProviderRefresh, "refresh_token"
	case errors.Is(err, apitoken.ErrExpired):
		// Ours, but its content can no longer be read. Sent on, it would
		// reach the provider, which answers 200 for a token it does not
		// know (RFC 7009 §2.2), and the grant inside would live on.
		return problem(http.StatusUnauthorized, CodeExpiredToken, "this refresh token has expired, so the provider refresh token sealed inside can no longer be read: revoke the provider's refresh token (provider.refresh_token of the login answer) instead", nil)
	}
	// Our own access tokens never go to the provider: it cannot revoke
	// them, and it has no business holding them.
	if _, err := s.verifier.Verify(req.Token); err == nil || errors.Is(err, apitoken.ErrExpired) {
		return problem(http.StatusBadRequest, CodeUnsupportedOperation, "this is an edgeauth access token: it cannot be revoked without storage and expires after EDGEAUTH_ACCESS_TTL", nil)
	}
	if err := p.rp.Revoke(c.Request().Context(), token, hint); err != nil {
		return providerProblem(err)
	}
	return c.NoContent(http.StatusNoContent)
}

type logoutResponse struct {
	URL   string `json:"url"`
	State string `json:"state"`
}

// maxLogoutStateLen bounds the state an app passes through the logout.
const maxLogoutStateLen = 512

// logoutURL returns the provider's RP-initiated logout URL (OpenID Connect
// RP-Initiated Logout 1.0 §2) for an allow-listed post-logout redirect URI.
func (s *Server) logoutURL(c echo.Context) error {
	q := c.QueryParams()
	if err := checkFields(
		field{name: "provider", value: q.Get("provider"), max: maxProviderLen},
		field{name: "id_token_hint", value: q.Get("id_token_hint"), max: maxTokenLen, optional: true},
		field{name: "post_logout_redirect_uri", value: q.Get("post_logout_redirect_uri"), max: 2048, optional: true},
		field{name: "state", value: q.Get("state"), max: maxLogoutStateLen, optional: true},
	); err != nil {
		return err
	}
	p, err := s.lookupProvider(q.Get("provider"))
	if err != nil {
		return err
	}
	redirect := p.cfg.PostLogoutRedirectURI
	if r := q.Get("post_logout_redirect_uri"); r != "" {
		if !slices.Contains(p.cfg.PostLogoutRedirectURIs, r) {
			return problem(http.StatusBadRequest, CodeRedirectNotAllowed, "post_logout_redirect_uri is not one of the provider's allowed ones ("+envName(p.cfg.Name, "POST_LOGOUT_REDIRECT_URI(S)")+"); matching is exact", nil)
		}
		redirect = r
	}
	// The provider sends the state back on the post-logout redirect; one is
	// made when the app gives none, and returned, so the app can tell its
	// own logout from a forged redirect.
	state := q.Get("state")
	if state == "" {
		state = randomValue()
	}
	u, err := p.rp.LogoutURL(c.Request().Context(), oidc.LogoutRequest{
		IDTokenHint:           q.Get("id_token_hint"),
		PostLogoutRedirectURI: redirect,
		State:                 state,
	})
	if err != nil {
		return providerProblem(err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, logoutResponse{URL: u, State: state})
}
