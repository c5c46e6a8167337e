// Reading a control-plane component's /metrics over HTTP(S): where it is, TLS, the kubeconfig's credentials, redaction.
import type * as https from "node:https";
import * as k8s from "@kubernetes/client-node";
import { isLoopbackServer } from "../../components/config/kubeconfig";
import { HttpReply, inlineCredentials, send } from "../../components/kube/http";
import type { Kube } from "../kube";

/** A component's /metrics not answering within this is unreadable for that scrape: the run must not wait on it. */
export const ENDPOINT_TIMEOUT_MS = 5000;
/** Node's codes for a serving certificate that the given CA does not vouch for, or that names another host. */
const UNVERIFIED = [
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "CERT_UNTRUSTED",
    "CERT_SIGNATURE_FAILURE",
    "ERR_TLS_CERT_ALTNAME_INVALID",
];

export interface HealthEndpoints {
    readonly etcd: string;
    readonly scheduler: string;
    readonly controllerManager: string;
}

/** The given /metrics URLs, else the target API server's host at each component's usual port (kubeadm's). */
export function healthEndpoints(
    targetServer: string,
    given: { etcdMetricsUrl?: string; schedulerMetricsUrl?: string; controllerManagerMetricsUrl?: string },
): HealthEndpoints {
    const host = new URL(targetServer).hostname;
    return {
        etcd: given.etcdMetricsUrl ?? `http://${host}:2381/metrics`,
        scheduler: given.schedulerMetricsUrl ?? `https://${host}:10259/metrics`,
        controllerManager: given.controllerManagerMetricsUrl ?? `https://${host}:10257/metrics`,
    };
}

/** A URL as results may show it: no user, password or query, which could hold credentials. */
export function publicUrl(url: string): string {
    try {
        const u = new URL(url);
        return `${u.protocol}//${u.host}${u.pathname}`;
    } catch {
        return "(not a URL)";
    }
}

/** `text` with every credential in `secrets` (and each line of a PEM key) replaced: errors and bodies may echo them. */
export function redact(text: string, secrets: readonly string[]): string {
    const parts = secrets
        .flatMap((s) => [s, ...s.split("\n").map((l) => l.trim())])
        .filter((s) => s.length >= 8)
        .sort((a, b) => b.length - a.length);
    return parts.reduce((t, s) => t.split(s).join("[redacted]"), text);
}

/** The kubeconfig's client credentials for a component; its server name and skip-verify are the API server's only. */
interface ClientAuth {
    readonly tls: Pick<https.RequestOptions, "ca" | "cert" | "key" | "pfx" | "passphrase">;
    readonly authorization?: string;
    readonly secrets: readonly string[];
}

/** Read anew for every request: an exec plugin's token expires. */
async function clientAuth(kubeconfig: string): Promise<ClientAuth> {
    const text = (v: unknown) =>
        v === undefined || v === null ? [] : [Buffer.isBuffer(v) ? v.toString("utf8") : String(v)];
    const inline = inlineCredentials(kubeconfig);
    if (inline) {
        const token = inline.authorization?.replace(/^\S+\s+/, "");
        return {
            tls: { ca: inline.ca, cert: inline.cert, key: inline.key },
            authorization: inline.authorization,
            secrets: [...text(inline.key), ...text(inline.authorization), ...text(token)],
        };
    }
    const kc = new k8s.KubeConfig();
    kc.loadFromString(kubeconfig);
    const opts: https.RequestOptions = { headers: {} };
    await kc.applyToHTTPSOptions(opts);
    const header = (opts.headers as Record<string, unknown> | undefined)?.Authorization;
    const authorization = typeof header === "string" ? header : undefined;
    return {
        tls: { ca: opts.ca, cert: opts.cert, key: opts.key, pfx: opts.pfx, passphrase: opts.passphrase },
        authorization,
        secrets: [
            ...text(opts.key),
            ...text(opts.passphrase),
            ...text(authorization),
            ...text(authorization?.replace(/^\S+\s+/, "")),
        ],
    };
}

export type Read = { readonly ok: true; readonly body: string } | { readonly ok: false; readonly why: string };

const errorText = (e: unknown) => {
    const err = e as { name?: string; code?: string; message?: string };
    return err.name === "AbortError"
        ? "cancelled"
        : `${err.message ?? String(e)}${err.code && !(err.message ?? "").includes(err.code) ? ` (${err.code})` : ""}`;
};

/**
 * A component's /metrics over plain HTTP (no credentials: etcd's metrics port) or HTTPS with the kubeconfig's client
 * credentials, verified against its CA; a self-signed serving certificate is accepted only on a loopback host.
 */
export function endpoint(
    url: string,
    kubeconfig: string,
    flag: string,
    signal?: AbortSignal,
): { source: string; note(): string | undefined; read(): Promise<Read> } {
    let insecure = false;
    let note: string | undefined;
    const get = async (u: URL, auth: ClientAuth | undefined, skipVerify: boolean): Promise<HttpReply> => {
        const timeout = AbortSignal.timeout(ENDPOINT_TIMEOUT_MS);
        const headers: Record<string, string> = { Accept: "text/plain" };
        if (auth?.authorization !== undefined) {
            headers.Authorization = auth.authorization;
        }
        const tls = auth ? { ...auth.tls, rejectUnauthorized: !skipVerify } : {};
        try {
            return await send(u, {
                method: "GET",
                headers,
                agent: false,
                signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
                ...tls,
            });
        } catch (e) {
            throw timeout.aborted ? new Error(`no answer within ${ENDPOINT_TIMEOUT_MS / 1000} s`) : e;
        }
    };
    return {
        source: publicUrl(url),
        note: () => note,
        async read() {
            let secrets: readonly string[] = [];
            const fail = (why: string): Read => ({
                ok: false,
                why: redact(`not readable: ${why}; pass ${flag}`, secrets),
            });
            try {
                const u = new URL(url);
                const auth = u.protocol === "https:" ? await clientAuth(kubeconfig) : undefined;
                secrets = auth?.secrets ?? [];
                let reply: HttpReply;
                try {
                    reply = await get(u, auth, insecure);
                } catch (e) {
                    const code = (e as { code?: string }).code ?? "";
                    if (auth !== undefined && !insecure && UNVERIFIED.includes(code) && !isLoopbackServer(url)) {
                        throw new Error(
                            `${errorText(e)}: the serving certificate is not the kubeconfig's CA's, and is taken unverified only on a loopback host`,
                        );
                    }
                    if (auth === undefined || insecure || !UNVERIFIED.includes(code)) {
                        throw e;
                    }
                    reply = await get(u, auth, true);
                    insecure = true;
                    note = `serving certificate not verified: ${code} against the kubeconfig's CA, accepted as ${u.hostname} is a loopback address`;
                }
                if (reply.status === 200) {
                    return { ok: true, body: reply.body };
                }
                return fail(
                    reply.status === 401
                        ? "HTTP 401, the target kubeconfig's credentials were not accepted"
                        : reply.status === 403
                          ? "HTTP 403, the target kubeconfig's user may not get /metrics there"
                          : `HTTP ${reply.status}: ${redact(reply.body, secrets).slice(0, 120)}`,
                );
            } catch (e) {
                return fail(errorText(e));
            }
        },
    };
}

/** The API server's /metrics through the run's own client; a 403 is RBAC on the nonResourceURL /metrics. */
export async function readApiserver(api: Kube): Promise<Read> {
    try {
        const r = await api.text("/metrics");
        return r.status === 200
            ? { ok: true, body: r.body }
            : {
                  ok: false,
                  why:
                      r.status === 403
                          ? "not readable: HTTP 403, the target's kubeconfig may not get the nonResourceURL /metrics"
                          : `not readable: HTTP ${r.status}: ${r.body.slice(0, 120)}`,
              };
    } catch (e) {
        return { ok: false, why: `not readable: ${errorText(e)}` };
    }
}
