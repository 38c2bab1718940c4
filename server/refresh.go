package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/userhook"
)

type refreshRequest struct {
	Refresh string `json:"refresh"`
}

const refreshShape = "{refresh}"

// refreshSession trades a refresh token for new API tokens, with no
// storage: the refresh token carries the session. It refuses past
// REFRESH_TTL and SESSION_MAX_AGE, refreshes at the provider when the
// session holds a provider refresh token (the provider saying no ends the
// session), asks the webhook again (user.refresh), and rotates the refresh
// token. Stateless rotation cannot notice an old refresh token used again:
// the README says what closes that gap.
func (s *Server) refreshSession(c echo.Context) error {
	var req refreshRequest
	if err := decodeJSON(c, &req, refreshShape); err != nil {
		return err
	}
	if err := checkFields(field{name: "refresh", value: req.Refresh, max: maxTokenLen}); err != nil {
		return err
	}
	sess, err := s.refresh.Open(req.Refresh)
	switch {
	case errors.Is(err, apitoken.ErrExpired):
		return problem(http.StatusUnauthorized, CodeExpiredToken, "the refresh token has expired (EDGEAUTH_REFRESH_TTL, never past EDGEAUTH_SESSION_MAX_AGE): log in again", nil)
	case err != nil:
		return problem(http.StatusUnauthorized, CodeInvalidToken, "not a refresh token of this service (an access token, a state or a provider token is not one), altered, or sealed with a key it no longer has", err)
	}
	p, ok := s.providers[sess.Provider]
	if !ok {
		return problem(http.StatusUnauthorized, CodeSessionEnded, "the provider of this session is no longer configured: log in again", nil)
	}
	noteProvider(c, p.cfg.Name)
	if !s.now().Before(sess.SessionStart.Add(s.cfg.SessionMaxAge)) {
		return problem(http.StatusUnauthorized, CodeExpiredToken, "the session has reached EDGEAUTH_SESSION_MAX_AGE: log in again", nil)
	}

	next := session{
		event:           userhook.EventRefresh,
		provider:        p,
		identity:        oidc.Identity{Issuer: p.rp.Issuer(), Subject: sess.ProviderSubject},
		start:           sess.SessionStart,
		authTime:        sess.AuthTime,
		providerRefresh: sess.ProviderRefresh,
		subject:         sess.Subject,
		claims:          sess.Claims,
	}
	var pt *providerTokens
	if sess.ProviderRefresh != "" {
		res, err := p.rp.Refresh(c.Request().Context(), sess.ProviderRefresh, sess.ProviderSubject)
		if err != nil {
			if oe, ok := errors.AsType[*oidc.Error](err); ok && oe.Code == oidc.CodeExchangeFailed {
				return problem(http.StatusUnauthorized, CodeSessionEnded, "the provider refused to refresh this session (its grant was revoked or has expired): log in again", err)
			}
			return providerProblem(err)
		}
		next.identity = res.Identity
		if res.Tokens.RefreshToken != "" {
			next.providerRefresh = res.Tokens.RefreshToken
		}
		pt = &providerTokens{
			AccessToken: res.Tokens.AccessToken,
			TokenType:   res.Tokens.TokenType,
			IDToken:     res.Tokens.IDToken,
			ExpiresIn:   res.Tokens.ExpiresIn,
			Scope:       res.Tokens.Scope,
		}
	}
	return s.finish(c, next, pt, "")
}
