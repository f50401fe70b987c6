// Serving certificate (components.md §7 "TLS"). Without certificate files the webhook makes a
// self-signed RSA-2048 CA certificate valid for one year: node:crypto makes the key and signs, and
// the X.509 DER is assembled here (no openssl binary needed in the image).
import { createPrivateKey, generateKeyPairSync, KeyObject, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface ServingCert {
  certPem: string;
  keyPem: string;
  /** PEM put in the webhook configuration's caBundle. */
  caBundlePem: string;
}

// --- minimal DER encoder ---
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag]), len(body.length), body]);
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, inner: Buffer) => tlv(0xa0 + n, inner);
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
function int(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, 'hex');
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}
function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0] + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}
function time(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const body = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const y = d.getUTCFullYear();
  // UTCTime up to 2049, GeneralizedTime after (RFC 5280 4.1.2.5).
  return y < 2050 ? tlv(0x17, Buffer.from(`${p(y % 100)}${body}`)) : tlv(0x18, Buffer.from(`${y}${body}`));
}
const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), utf8(cn))));
const ext = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

/** The DNS names the API server uses to reach the webhook through its Service. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [`${service}.${namespace}`, `${service}.${namespace}.svc`];
}

/**
 * Self-signed CA-flagged certificate: CN networkservicemesh.<service>-ca, SANs <service>.<namespace>
 * and <service>.<namespace>.svc, serial = Unix time, key usages digitalSignature, keyEncipherment,
 * keyCertSign, extended usage serverAuth, valid one year from now.
 */
export function selfSigned(service: string, namespace: string, now = new Date()): ServingCert {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sha256WithRSA = seq(oid('1.2.840.113549.1.1.11'), tlv(0x05, Buffer.alloc(0)));
  const subject = name(`networkservicemesh.${service}-ca`);
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(now.getUTCFullYear() + 1);
  const sans = seq(...serviceDnsNames(service, namespace).map((n) => tlv(0x82, Buffer.from(n, 'ascii'))));
  const tbs = seq(
    explicit(0, int(2n)),
    int(BigInt(Math.floor(now.getTime() / 1000))),
    sha256WithRSA,
    subject,
    seq(time(now), time(notAfter)),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(
      3,
      seq(
        ext('2.5.29.19', true, seq(bool(true))), // basicConstraints CA:TRUE
        ext('2.5.29.15', true, bits(Buffer.from([0xa4]), 2)), // keyUsage: digitalSignature, keyEncipherment, keyCertSign
        ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
        ext('2.5.29.17', false, sans), // subjectAltName
      ),
    ),
  );
  const der = seq(tbs, sha256WithRSA, bits(sign('sha256', tbs, privateKey)));
  const certPem = toPem(der, 'CERTIFICATE');
  return { certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, caBundlePem: certPem };
}

function toPem(der: Buffer, label: string): string {
  const b64 = der.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/**
 * The certificate to serve: from the files when both are given (checked to parse and to match),
 * otherwise self-signed. Unlike upstream v1.1.1, given files are actually used.
 */
export function servingCert(opts: { certFile: string; keyFile: string; caBundleFile: string; service: string; namespace: string }): ServingCert & { source: string } {
  if (!opts.certFile && !opts.keyFile) return { ...selfSigned(opts.service, opts.namespace), source: 'self-signed' };
  if (!opts.certFile || !opts.keyFile) throw new Error('NSM_CERT_FILE_PATH and NSM_KEY_FILE_PATH must be given together');
  const certPem = readFileSync(opts.certFile, 'utf8');
  const keyPem = readFileSync(opts.keyFile, 'utf8');
  const cert = new X509Certificate(certPem);
  const key: KeyObject = createPrivateKey(keyPem);
  if (!cert.checkPrivateKey(key)) throw new Error(`${opts.keyFile} is not the private key of ${opts.certFile}`);
  const caBundlePem = opts.caBundleFile ? readFileSync(opts.caBundleFile, 'utf8') : certPem;
  return { certPem, keyPem, caBundlePem, source: `files ${opts.certFile}, ${opts.keyFile}` };
}
