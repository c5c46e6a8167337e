// The target-cluster calls that issue and revoke hollow-node credentials: CSRs and ServiceAccount tokens.
import { KUBELET_SIGNER } from "./csr";
import { connect, HttpReply, jsonOf } from "../kube/http";

/** A CertificateSigningRequest as far as issuing needs it. */
export interface CsrState {
    readonly name: string;
    /** PEM, once the signer has issued it. */
    readonly certificate?: string;
    /** Why it will never be issued: a Denied or Failed condition's reason and message. */
    readonly refused?: string;
}

export interface CertificateApi {
    readonly server: string;
    /** Creates the CSR for a kubelet client certificate, labelled as the stack's, and approves it. */
    requestAndApprove(req: { name: string; csrPem: string; labels: Record<string, string>; expirationSeconds: number; reason: string }): Promise<void>;
    readCsr(name: string): Promise<CsrState | undefined>;
    /** Deletes CSRs by name; already gone is fine. */
    deleteCsr(name: string): Promise<void>;
    /** Names of the CSRs carrying the label selector. */
    listCsrs(labelSelector: string): Promise<string[]>;
    /** A bound token of the ServiceAccount; resolves with it and its expiry (ISO). */
    requestToken(namespace: string, serviceAccount: string, expirationSeconds: number): Promise<{ token: string; expires: string }>;
}

/** A CertificateApi whose calls end at `requestTimeoutMs`, and at once when `signal` aborts. */
export type CertificateApiFactory = (kubeconfig: string, requestTimeoutMs: number, signal?: AbortSignal) => CertificateApi;

const CSR_PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
/** Writes of an approval that conflicted with another writer are retried on the latest version this often. */
const APPROVE_ATTEMPTS = 5;

interface CsrObject {
    metadata?: { name?: string };
    status?: { certificate?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/** The real CertificateApi: raw requests over one keep-alive pool, with the operator's kubeconfig. */
export function kubernetesCertificateApi(kubeconfig: string, requestTimeoutMs: number, signal?: AbortSignal): CertificateApi {
    const connection = connect(kubeconfig, requestTimeoutMs, signal);
    const server = connection.server;
    const send = (method: string, path: string, body?: unknown): Promise<HttpReply> => connection.send(method, path, "application/json", body);
    return {
        server,
        async requestAndApprove({ name, csrPem, labels, expirationSeconds, reason }) {
            const created = jsonOf(await send("POST", CSR_PATH, {
                apiVersion: "certificates.k8s.io/v1", kind: "CertificateSigningRequest",
                metadata: { name, labels },
                spec: {
                    request: Buffer.from(csrPem).toString("base64"), signerName: KUBELET_SIGNER, expirationSeconds,
                    // What kubelets ask for with an EC key; the signer refuses anything else.
                    usages: ["digital signature", "client auth"],
                },
            }), `create CertificateSigningRequest ${name}`) as CsrObject;
            // The cluster's own approver may get there first: kube-controller-manager's csrapproving approves kubelet
            // client CSRs of requestors allowed certificatesigningrequests/nodeclient (admins are). Then our write
            // conflicts (409) and the latest version is already approved.
            let current = created;
            for (let attempt = 1; ; attempt++) {
                if (current.status?.conditions?.some((c) => c.type === "Approved" && c.status === "True")) {
                    return;
                }
                current.status = { ...current.status, conditions: [...(current.status?.conditions ?? []),
                    { type: "Approved", status: "True", reason: "KubemarkPulumiApproved", message: reason }] };
                const reply = await send("PUT", `${CSR_PATH}/${name}/approval`, current);
                if (reply.status !== 409 || attempt >= APPROVE_ATTEMPTS) {
                    jsonOf(reply, `approve CertificateSigningRequest ${name}`);
                    return;
                }
                current = jsonOf(await send("GET", `${CSR_PATH}/${name}`), `read CertificateSigningRequest ${name}`) as CsrObject;
            }
        },
        async readCsr(name) {
            const reply = await send("GET", `${CSR_PATH}/${name}`);
            if (reply.status === 404) {
                return undefined;
            }
            const csr = jsonOf(reply, `read CertificateSigningRequest ${name}`) as CsrObject;
            const refusal = csr.status?.conditions?.find((c) => (c.type === "Denied" || c.type === "Failed") && c.status === "True");
            return {
                name,
                certificate: csr.status?.certificate ? Buffer.from(csr.status.certificate, "base64").toString("utf8") : undefined,
                refused: refusal ? `${refusal.type}: ${refusal.reason ?? ""} ${refusal.message ?? ""}`.trim() : undefined,
            };
        },
        async deleteCsr(name) {
            const reply = await send("DELETE", `${CSR_PATH}/${name}`);
            if (reply.status !== 404) {
                jsonOf(reply, `delete CertificateSigningRequest ${name}`);
            }
        },
        async listCsrs(labelSelector) {
            const list = jsonOf(await send("GET", `${CSR_PATH}?${new URLSearchParams({ labelSelector })}`), "list CertificateSigningRequests") as { items?: CsrObject[] };
            return (list.items ?? []).map((c) => c.metadata?.name ?? "").filter(Boolean);
        },
        async requestToken(namespace, serviceAccount, expirationSeconds) {
            const path = `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`;
            const reply = jsonOf(await send("POST", path, {
                apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds },
            }), `request a token for ServiceAccount ${namespace}/${serviceAccount}`) as { status?: { token?: string; expirationTimestamp?: string } };
            if (!reply.status?.token || !reply.status.expirationTimestamp) {
                throw new Error(`the TokenRequest for ${namespace}/${serviceAccount} returned no token`);
            }
            return { token: reply.status.token, expires: reply.status.expirationTimestamp };
        },
    };
}
