package server

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Problem is an RFC 9457 problem detail with edgeauth's stable `code`.
// Detail is shown to clients, so it never carries secrets or provider
// bodies; the internal cause goes to the log only.
type Problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
	Type   string `json:"type"`
	// Check names the failed ID-token check, when one did.
	Check string `json:"check,omitempty"`
	// RequestID lets a user quote the log line that has the cause.
	RequestID string `json:"request_id,omitempty"`

	cause error
}

func (p *Problem) Error() string {
	if p.cause != nil {
		return p.Code + ": " + p.Detail + ": " + p.cause.Error()
	}
	return p.Code + ": " + p.Detail
}

func (p *Problem) Unwrap() error { return p.cause }

// problem builds a Problem; cause may be nil.
func problem(status int, code, detail string, cause error) *Problem {
	return &Problem{Status: status, Code: code, Title: problemTitles[code], Detail: detail, cause: cause}
}

var problemTitles = map[string]string{
	"unknown_provider":         "Unknown provider",
	"invalid_request":          "Invalid request",
	"invalid_state":            "Invalid state",
	"expired_state":            "Expired state",
	"binding_mismatch":         "State not bound to this client",
	"provider_mismatch":        "Provider mismatch",
	"issuer_mismatch":          "Issuer mismatch",
	"exchange_failed":          "Code exchange refused",
	"invalid_id_token":         "Invalid ID token",
	"nonce_mismatch":           "Nonce mismatch",
	"userinfo_failed":          "Userinfo failed",
	"user_denied":              "User denied",
	"userhook_unavailable":     "User webhook unavailable",
	"invalid_token":            "Invalid token",
	"expired_token":            "Expired token",
	"redirect_uri_not_allowed": "Redirect URI not allowed",
	"provider_unavailable":     "Provider unavailable",
	"not_found":                "Not found",
	"method_not_allowed":       "Method not allowed",
	"payload_too_large":        "Payload too large",
	"unsupported_media_type":   "Unsupported media type",
	"internal_error":           "Internal error",
}

// problemTypeBase prefixes each code to form the problem `type` URI; the
// README has an anchor per code.
const problemTypeBase = "https://github.com/edgeauth/edgeauth#error-"

// errorHandler renders every error as problem+json. Echo's own errors
// (404, 405, 413 from the body limit) are mapped to stable codes; anything
// else is a 500 whose cause is logged, not shown.
func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := asProblem(err)
		p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
		p.Type = problemTypeBase + p.Code
		if p.Title == "" {
			p.Title = http.StatusText(p.Status)
		}
		level := slog.LevelInfo
		if p.Status >= 500 {
			level = slog.LevelError
		}
		attrs := []any{"request_id", p.RequestID, "status", p.Status, "code", p.Code, "path", c.Path()}
		if p.cause != nil {
			// A cause that knows how to log itself (oidc.Error keeps the
			// provider's answer out of Error() but logs it) does so.
			var lv slog.LogValuer
			if errors.As(p.cause, &lv) {
				attrs = append(attrs, "cause", lv)
			} else {
				attrs = append(attrs, "cause", p.cause.Error())
			}
		}
		logger.Log(c.Request().Context(), level, "request failed", attrs...)

		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		c.Response().Header().Set("Cache-Control", "no-store")
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(p.Status)
			return
		}
		_ = c.JSON(p.Status, p)
	}
}

func asProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		cp := *p
		return &cp
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return problem(he.Code, "not_found", "no such route", nil)
		case http.StatusMethodNotAllowed:
			return problem(he.Code, "method_not_allowed", "method not allowed on this route", nil)
		case http.StatusRequestEntityTooLarge:
			return problem(he.Code, "payload_too_large", "request body too large", nil)
		case http.StatusUnsupportedMediaType:
			return problem(he.Code, "unsupported_media_type", "send application/json", nil)
		case http.StatusBadRequest:
			return problem(he.Code, "invalid_request", "malformed request", he)
		}
		if he.Code >= 400 && he.Code < 500 {
			return problem(he.Code, "invalid_request", http.StatusText(he.Code), he)
		}
	}
	return problem(http.StatusInternalServerError, "internal_error", "unexpected error; quote the request_id when reporting it", err)
}
