package server

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// The JSON endpoints read untrusted bodies: whatever arrives, the answer
// is never a 500, and it is either problem+json or the endpoint's own
// success JSON.

// fuzzBody posts each input as an application/json body to path through
// the handler (no network to edgeauth; the provider is in process) and
// checks the answer's shape.
func fuzzBody(f *testing.F, h *harness, path string, seeds []string) {
	handler := h.srv.Handler()
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		checkAnswer(t, rec, body)
	})
}

// checkAnswer asserts no 500, and a body that is problem+json with a code
// on refusals, JSON on success, nothing on 204.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, in []byte) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d for %q: %s", rec.Code, in, rec.Body)
	}
	mt, _, _ := mime.ParseMediaType(rec.Header().Get(echo.HeaderContentType))
	switch {
	case rec.Code == http.StatusNoContent:
		if rec.Body.Len() != 0 {
			t.Fatalf("204 with a body for %q: %s", in, rec.Body)
		}
	case rec.Code >= 400:
		var p Problem
		if mt != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Code == "" || p.Status != rec.Code {
			t.Fatalf("refusal %d for %q is not problem+json (%q): %s", rec.Code, in, mt, rec.Body)
		}
		if _, known := codeTitles[p.Code]; !known {
			t.Fatalf("unknown code %q for %q", p.Code, in)
		}
		if p.Code == CodeInternalError {
			t.Fatalf("internal error for %q: %s", in, rec.Body)
		}
	case rec.Code == http.StatusOK:
		var out map[string]any
		if mt != echo.MIMEApplicationJSON || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
			t.Fatalf("success for %q is not a JSON object (%q): %s", in, mt, rec.Body)
		}
	default:
		t.Fatalf("status %d for %q", rec.Code, in)
	}
}

func FuzzTokenBody(f *testing.F) {
	fuzzBody(f, newHarness(f), "/oauth2/token", []string{
		`{"provider":"op","code":"c","state":"s","iss":"https://op.example"}`,
		`{"provider":"op","code":"c","state":"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiayJ9..aaaa.bbbb.cccc","binding":"frontend-random-value-123"}`,
		`{"provider":"nope","code":"c","state":"s"}`,
		`{"provider":"op","code":"c"}`,
		`{"provider":"op","code":1,"state":"s"}`,
		`{"provider":"op","code":"c","state":"s","extra":true}`,
		`{"provider":"op","code":"c","state":"s"} {}`,
		`{"provider":"op","code":"` + strings.Repeat("c", 5000) + `","state":"s"}`,
		`{"code":"\u0000","state":"\ud800"}`,
		`{}`, `null`, `[]`, `"x"`, ``, `{`,
	})
}

func FuzzRefreshBody(f *testing.F) {
	h := newHarness(f)
	f.Add([]byte(mustJSON(map[string]string{"refresh": h.fullLogin().API.Refresh})))
	fuzzBody(f, h, "/oauth2/refresh", []string{
		`{"refresh":"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiayIsInR5cCI6InJlZnJlc2gifQ..aaaa.bbbb.cccc"}`,
		`{"refresh":"a.b.c"}`,
		`{"refresh":""}`,
		`{"refresh":null}`,
		`{"refresh":["x"]}`,
		`{"refresh":"x","refresh":"y"}`,
		`{"Refresh":"x"}`,
		`{"refresh":"x"}x`,
		`{}`, `null`, `[]`, `1`, ``,
	})
}

func FuzzConvertBody(f *testing.F) {
	h := newHarness(f)
	tok, err := h.op.IssueTokens(testClientID, testEmail, "n-0123456789")
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(mustJSON(map[string]string{"provider": "op", "token": tok.IDToken, "nonce": "n-0123456789"})))
	f.Add([]byte(mustJSON(map[string]string{"provider": "op", "token": tok.AccessToken, "token_type": "access_token"})))
	fuzzBody(f, h, "/oauth2/convert-token", []string{
		`{"provider":"op","token":"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"}`,
		`{"provider":"op","token":"opaque-access-token","token_type":"access_token"}`,
		`{"provider":"op","token":"t","token_type":"id_token","nonce":"n"}`,
		`{"provider":"op","token":"t","token_type":"saml"}`,
		`{"provider":"nope","token":"t"}`,
		`{"provider":"op"}`,
		`{"provider":"op","token":"t","nonce":"` + strings.Repeat("n", 600) + `"}`,
		`{}`, `null`, ``,
	})
}

func FuzzRevokeBody(f *testing.F) {
	h := newHarness(f)
	tr := h.fullLogin()
	f.Add([]byte(mustJSON(map[string]string{"provider": "op", "token": tr.API.Refresh})))
	f.Add([]byte(mustJSON(map[string]string{"provider": "op", "token": tr.Provider.AccessToken, "token_type_hint": "access_token"})))
	fuzzBody(f, h, "/oauth2/revoke", []string{
		`{"provider":"op","token":"some-provider-token"}`,
		`{"provider":"op","token":"some-provider-token","token_type_hint":"refresh_token"}`,
		`{"provider":"op","token":"t","token_type_hint":"id_token"}`,
		`{"provider":"op","token":"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..a.b.c"}`,
		`{"provider":"nope","token":"t"}`,
		`{"provider":"op","token":""}`,
		`{"provider":"op","token":"t","extra":1}`,
		`{}`, `null`, ``,
	})
}
