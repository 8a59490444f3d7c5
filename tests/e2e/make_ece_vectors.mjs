// Writes tests/data/ece_negative_vectors.json: malformed aes128gcm bodies built record by
// record with node:crypto only (independent of tools/client), for the decrypt failure tests.
// Each record's plaintext is spelled out, so the file documents exactly what is wrong.
// Usage: node tests/e2e/make_ece_vectors.mjs > tests/data/ece_negative_vectors.json

import crypto from 'node:crypto';

const unb64u = (s) => Buffer.from(s, 'base64url');
const b64u = (b) => Buffer.from(b).toString('base64url');

// RFC 8188 §3.1 keying material.
const IKM = unb64u('yqdlZ-tYemfogSmv7Ws5PQ');
const SALT = unb64u('I1BsxtFttlv3u_Oo94xnmw');

function keys(salt, ikm) {
  const info = (s) => Buffer.concat([Buffer.from(s), Buffer.from([0])]);
  return {
    cek: Buffer.from(crypto.hkdfSync('sha256', ikm, salt, info('Content-Encoding: aes128gcm'), 16)),
    nonce: Buffer.from(crypto.hkdfSync('sha256', ikm, salt, info('Content-Encoding: nonce'), 12)),
  };
}

function header(salt, rs, keyid) {
  const b = Buffer.alloc(21);
  salt.copy(b, 0);
  b.writeUInt32BE(rs, 16);
  b[20] = keyid.length;
  return Buffer.concat([b, keyid]);
}

function seal(k, seq, plaintext) {
  const nonce = Buffer.from(k.nonce);
  nonce.writeUInt32BE(nonce.readUInt32BE(8) ^ seq, 8);
  const c = crypto.createCipheriv('aes-128-gcm', k.cek, nonce);
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

// records: array of Buffers (record plaintexts including delimiter and padding).
function body(records, { rs = 4096, keyid = Buffer.alloc(0), ikm = IKM, salt = SALT } = {}) {
  const k = keys(salt, ikm);
  return Buffer.concat([header(salt, rs, keyid), ...records.map((r, i) => seal(k, i, r))]);
}

const text = (s, ...tail) => Buffer.concat([Buffer.from(s), Buffer.from(tail)]);
const good2 = body([text('I am th', 1, 0), text('e walrus', 2)], { rs: 25 });

const vectors = [
  { name: 'last_record_delimiter_0x01', expect: 'truncated',
    description: 'single record ends with delimiter 0x01: the message was cut after it (RFC 8188 2)',
    body: body([text('I am the walrus', 1)]) },
  { name: 'delimiter_0x03', expect: 'bad_padding',
    description: 'single record with delimiter 0x03',
    body: body([text('I am the walrus', 3)]) },
  { name: 'no_delimiter', expect: 'bad_padding',
    description: 'record plaintext is all zeros: no delimiter at all',
    body: body([Buffer.alloc(4)]) },
  { name: 'non_final_record_delimiter_0x02', expect: 'bad_padding',
    description: 'rs=25, first of two records ends with 0x02',
    body: body([text('I am the', 2), text(' walrus', 2)], { rs: 25 }) },
  { name: 'non_zero_padding', expect: 'bad_padding',
    description: 'padding after the delimiter contains 0x05',
    body: body([text('walrus', 2, 0, 5)]) },
  { name: 'final_record_cut', expect: 'truncated',
    description: 'valid two-record body (rs=25) with the last record cut to 10 octets',
    body: good2.subarray(0, 23 + 25 + 10) },
  { name: 'final_record_missing', expect: 'truncated',
    description: 'valid two-record body (rs=25) without its last record',
    body: good2.subarray(0, 23 + 25) },
  { name: 'record_size_17', expect: 'bad_header',
    description: 'header rs=17 (below the minimum of 18)',
    body: body([text('x', 2)], { rs: 17 }) },
  { name: 'header_only', expect: 'truncated',
    description: 'header without any record', body: header(SALT, 4096, Buffer.alloc(0)) },
  { name: 'short_header', expect: 'truncated',
    description: '10 octets, shorter than the 21-octet header', body: SALT.subarray(0, 10) },
  { name: 'tag_flipped', expect: 'decrypt_failed',
    description: 'last octet of the authentication tag flipped',
    body: (() => { const b = body([text('I am the walrus', 2)]); b[b.length - 1] ^= 1; return b; })() },
  { name: 'valid_control', expect: 'ok', plaintext: 'I am the walrus',
    description: 'control: the two-record body these cases were cut from decrypts', body: good2 },
];

// RFC 8291 Appendix A keys for the Web Push cases.
const A = {
  ua_private: 'q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94',
  auth_secret: 'BTBZMqHH6r4Tts7J_aSIgg',
  body: 'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN',
};
const rfcBody = unb64u(A.body);
const webpushVectors = [
  { name: 'wrong_auth_secret', expect: 'decrypt_failed',
    description: 'RFC 8291 example body, auth secret with one bit flipped',
    ua_private: A.ua_private,
    auth_secret: b64u((() => { const a = unb64u(A.auth_secret); a[0] ^= 1; return a; })()),
    body: rfcBody },
  { name: 'wrong_ua_key', expect: 'decrypt_failed',
    description: 'RFC 8291 example body, a different UA private key',
    ua_private: 'yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw', auth_secret: A.auth_secret, body: rfcBody },
  { name: 'keyid_33_octets', expect: 'bad_header',
    description: 'keyid is a 33-octet value instead of a 65-octet point (RFC 8291 4)',
    ua_private: A.ua_private, auth_secret: A.auth_secret,
    body: body([text('x', 2)], { keyid: Buffer.alloc(33, 2) }) },
  { name: 'keyid_off_curve', expect: 'invalid_key',
    description: 'keyid is 65 octets starting 0x04 but not on P-256 (RFC 8291 7)',
    ua_private: A.ua_private, auth_secret: A.auth_secret,
    body: body([text('x', 2)], { keyid: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]) }) },
];

process.stdout.write(JSON.stringify({
  source: 'generated by tests/e2e/make_ece_vectors.mjs with node:crypto; keying material from RFC 8188 3.1 and RFC 8291 Appendix A',
  aes128gcm: { ikm: b64u(IKM), vectors: vectors.map((v) => ({ ...v, body: b64u(v.body) })) },
  webpush: webpushVectors.map((v) => ({ ...v, body: b64u(v.body) })),
}, null, 2) + '\n');
