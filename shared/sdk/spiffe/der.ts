// The Workload API carries certificate chains and bundles as ASN.1 DER certificates concatenated;
// Node's X509Certificate takes one at a time. This splits them by the outer SEQUENCE's length,
// with bounds checks: the bytes come from a socket.
import { X509Certificate } from 'node:crypto';

/** Splits concatenated DER certificates; throws on anything that is not a whole sequence of them. */
export function splitDer(buf: Uint8Array): Buffer[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    if (b[i] !== 0x30) throw new Error(`DER: expected a SEQUENCE at byte ${i}`);
    if (i + 2 > b.length) throw new Error('DER: truncated length');
    let len = b[i + 1];
    let head = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || i + 2 + n > b.length) throw new Error(`DER: bad length at byte ${i}`);
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + b[i + 2 + k];
      head += n;
    }
    const end = i + head + len;
    if (end > b.length) throw new Error(`DER: certificate at byte ${i} runs past the end`);
    out.push(Buffer.from(b.subarray(i, end)));
    i = end;
  }
  return out;
}

/** Parses concatenated DER certificates. */
export function parseCertificates(buf: Uint8Array): X509Certificate[] {
  return splitDer(buf).map((d) => new X509Certificate(d));
}

export const concatDer = (certs: (Buffer | X509Certificate)[]): Buffer =>
  Buffer.concat(certs.map((c) => (c instanceof X509Certificate ? c.raw : c)));

/** PEM text of certificates, as TLS secure contexts take them. */
export const toPem = (certs: (Buffer | X509Certificate)[]): string =>
  certs.map((c) => (c instanceof X509Certificate ? c : new X509Certificate(c)).toString()).join('');
