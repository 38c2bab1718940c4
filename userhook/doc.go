// Package userhook asks the backend, at every login, who a person is: it POSTs a signed
// event to the backend's webhook and reads back a user id and extra claims, or a refusal.
// Requests follow the Standard Webhooks format (https://www.standardwebhooks.com/): headers
// webhook-id, webhook-timestamp and webhook-signature ("v1," + Base64 HMAC-SHA256 of
// "id.timestamp.body"), so receivers can use any Standard Webhooks library or Verify.
//
// Sending, in edgeauth:
//
//	hook, err := userhook.New(userhook.Config{URL: "https://api.example.com/hooks/edgeauth", Secret: secret})
//	dec, err := hook.Send(ctx, userhook.Event{Type: userhook.EventLogin, Data: userhook.EventData{
//		Provider: "google", Issuer: iss, Subject: sub, Email: email, EmailVerified: true}})
//	switch {
//	case errors.Is(err, userhook.ErrUnavailable): // 502 userhook_unavailable
//	case !dec.Allowed: // 403 user_denied, dec.Message
//	default: // mint with sub = dec.UserID, plus dec.Claims
//	}
//
// Receiving, in a Go backend (body is the raw request body):
//
//	if err := userhook.Verify(os.Getenv("EDGEAUTH_USERHOOK_SECRET"), r.Header, body, 5*time.Minute); err != nil {
//		http.Error(w, "invalid signature", http.StatusUnauthorized)
//		return
//	}
//
// The backend answers 200 {"user_id": "42", "claims": {"role": "admin"}} to let the person
// in, or 403 {"message": "…"} to refuse. Secrets come from NewSecret.
package userhook
