// A kubelet's client key and certificate request (Node's own crypto, no openssl, no CA key), and its lifetime.
import type { KeyObject } from "crypto";

/** DER length octets: short form below 128, else the long form. */
function derLength(n: number): Buffer {
    if (n < 0x80) {
        return Buffer.from([n]);
    }
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) {
        bytes.unshift(v % 256);
    }
    return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const der = (tag: number, ...parts: Buffer[]) => {
    const body = Buffer.concat(parts);
    return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
};
const SEQUENCE = 0x30;
const SET = 0x31;
// Plain arrays, not Buffers: the dynamic provider's closure serializer turns captured Buffers into plain objects.
const OID_ORGANIZATION = [0x06, 0x03, 0x55, 0x04, 0x0a];
const OID_COMMON_NAME = [0x06, 0x03, 0x55, 0x04, 0x03];
/** 1.2.840.10045.4.3.2: the request is signed with its own P-256 key over SHA-256. */
const OID_ECDSA_SHA256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];

function attribute(oid: readonly number[], value: string): Buffer {
    return der(SET, der(SEQUENCE, Buffer.from(oid), der(0x0c, Buffer.from(value, "utf8"))));
}

/** The subject the kube-apiserver-client-kubelet signer requires: O=system:nodes, CN=system:node:<name>. */
export function kubeletSubject(nodeName: string): { organization: string; commonName: string } {
    return { organization: "system:nodes", commonName: `system:node:${nodeName}` };
}

export interface KubeletKey {
    /** PKCS#8 PEM of the EC P-256 private key. */
    readonly keyPem: string;
    /** PEM "CERTIFICATE REQUEST" for the node's client certificate. */
    readonly csrPem: string;
}

const pem = (label: string, body: Buffer) =>
    `-----BEGIN ${label}-----\n${body.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;

/** A fresh P-256 key and a certificate request for the kubelet of `nodeName`; no SANs, as the signer demands. */
export function kubeletKeyAndCsr(nodeName: string): KubeletKey {
    // require, not import: this runs in the dynamic provider process from serialized code.
    const crypto = require("crypto") as typeof import("crypto");
    const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    return { keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), csrPem: csrFor(nodeName, privateKey, publicKey) };
}

export function csrFor(nodeName: string, privateKey: KeyObject, publicKey: KeyObject): string {
    const crypto = require("crypto") as typeof import("crypto");
    const subject = kubeletSubject(nodeName);
    const name = der(SEQUENCE, attribute(OID_ORGANIZATION, subject.organization), attribute(OID_COMMON_NAME, subject.commonName));
    const spki = publicKey.export({ type: "spki", format: "der" });
    // version 0, subject, key, and an empty [0] attributes set.
    const info = der(SEQUENCE, Buffer.from([0x02, 0x01, 0x00]), name, spki, Buffer.from([0xa0, 0x00]));
    const signature = crypto.sign("sha256", info, privateKey);
    const request = der(SEQUENCE, info, der(SEQUENCE, Buffer.from(OID_ECDSA_SHA256)), der(0x03, Buffer.from([0x00]), signature));
    return pem("CERTIFICATE REQUEST", request);
}

/** The client certificate signer whose certificates the Node authorizer and NodeRestriction confine to one Node. */
export const KUBELET_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet";
/** The API server's minimum for CertificateSigningRequest expirationSeconds. */
export const MIN_LIFETIME_SECONDS = 600;

/** A node's issued client certificate and its key. */
export interface NodeCertificate {
    readonly certPem: string;
    readonly keyPem: string;
    /** ISO times the certificate starts and stops working (the signer may cap what was asked for). */
    readonly notBefore: string;
    readonly notAfter: string;
    /** The CertificateSigningRequest it came from, deleted on renewal and destroy. */
    readonly csrName: string;
}

/**
 * True once a credential is in the second half of the lifetime it was actually given: signers may cap the
 * requested lifetime (--cluster-signing-duration, the CA's own expiry), so the request alone cannot tell.
 */
export function needsRenewal(notBefore: string, notAfter: string, nowMs: number): boolean {
    const start = Date.parse(notBefore);
    const end = Date.parse(notAfter);
    return !Number.isFinite(start) || !Number.isFinite(end) || nowMs >= start + (end - start) / 2;
}

/** CSR names are cluster-wide: the node's name (already the stack's) and when it was asked for. */
export function csrName(nodeName: string, issuedAtMs: number): string {
    return `${nodeName}-${Math.floor(issuedAtMs / 1000).toString(36)}`;
}
