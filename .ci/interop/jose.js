// Seals and opens edgeauth state tokens with npm jose, for interop_test.go.
// Reads one JSON request on stdin:
//   {"key": "<base64url 32 bytes>", "kid": "...",
//    "open": [{"token": "...", "typ": "..."}],
//    "seal": [{"typ": "...", "plaintext": "...", "reorder": false}]}
// and writes {"opened": [{"header": {...}, "plaintext": "..."}], "sealed": ["..."]}.
// An opened entry with "error" set means jose refused the token.
import { compactDecrypt, CompactEncrypt, base64url } from 'jose';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const req = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const key = base64url.decode(req.key);
const text = new TextDecoder();
const bytes = new TextEncoder();

const opened = [];
for (const { token, typ } of req.open ?? []) {
  try {
    const { plaintext, protectedHeader } = await compactDecrypt(token, key, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    if (protectedHeader.typ !== typ) throw new Error(`typ ${protectedHeader.typ}, want ${typ}`);
    opened.push({ header: protectedHeader, plaintext: text.decode(plaintext) });
  } catch (e) {
    opened.push({ error: String(e && e.code ? e.code : e) });
  }
}

const sealed = [];
for (const { typ, plaintext, reorder } of req.seal ?? []) {
  // reorder writes the header members in another order, which the codec
  // must read with its strict parser rather than its byte comparison.
  const header = reorder
    ? { typ, kid: req.kid, enc: 'A256GCM', alg: 'dir' }
    : { alg: 'dir', enc: 'A256GCM', kid: req.kid, typ };
  sealed.push(await new CompactEncrypt(bytes.encode(plaintext)).setProtectedHeader(header).encrypt(key));
}

process.stdout.write(JSON.stringify({ opened, sealed }));
