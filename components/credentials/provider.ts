// Dynamic provider issuing each hollow kubelet its own client certificate, and bound ServiceAccount tokens.
import type * as pulumi from "@pulumi/pulumi";
import { CertificateApi, CertificateApiFactory, kubernetesCertificateApi } from "./certificateApi";
import { csrName, needsRenewal, NodeCertificate } from "./csr";
import { kubeletKeyAndCsr } from "./csr";
import { cancellable, Clock, forEachLimited, Log, patientLook, POLL_MS, PROGRESS_EVERY_MS, realClock, someNames } from "../kube/async";
import { EngineCancel, engineCancel, providerLog, REQUEST_MS, RETRY_ADVICE, waitAdvice } from "../kube/dynamic";
import { isCancelled, isUnreachable } from "../kube/errors";

/**
 * Destroy runs the copy stored in state; a new version makes the next `up` store new code
 * (test/unit/providerDigests.json).
 */
export const CREDENTIALS_PROVIDER_VERSION = "3";
/** CSRs in flight at once: each is a create, an approval and a few reads. */
export const ISSUE_CONCURRENCY = 32;

export interface HollowCredentialsInputs {
    readonly providerVersion: string;
    /** The operator's kubeconfig of the target; used here only, never handed to pods. */
    readonly targetKubeconfig: string;
    readonly stackLabelKey: string;
    readonly stackLabelValue: string;
    /** The hollow Nodes that get a certificate, each for `system:node:<name>`. */
    readonly nodeNames: string[];
    /** Requested certificate and token lifetime (the signer may cap it). */
    readonly lifetimeSeconds: number;
    /** Stack-owned namespace of the ServiceAccounts below. */
    readonly identityNamespace: string;
    /**
     * ServiceAccounts that get a bound token: the proxy's, and the kubelets' where no per-node certificate is possible.
     */
    readonly serviceAccounts: string[];
    /** Bound on waiting for the signer, per certificate from its approval. */
    readonly timeoutSeconds: number;
}

export interface ServiceAccountToken { readonly token: string; readonly issued: string; readonly expires: string }

export interface HollowCredentialsOutputs extends HollowCredentialsInputs {
    readonly certificates: Record<string, NodeCertificate>;
    /** By ServiceAccount name. */
    readonly tokens: Record<string, ServiceAccountToken>;
}

/**
 * First wait for the signer after approval, doubling up to SIGN_POLL_MAX_MS: the signer sets the pace, and polling
 * faster did not issue sooner (bench/README.md, Scale).
 */
const SIGN_POLL_FIRST_MS = 200;
const SIGN_POLL_MAX_MS = 1000;

/**
 * Issues one node's certificate: key and CSR made here, the CSR approved, then waits for the signer, at most
 * `timeoutSeconds` from this node's approval (not from the batch's start, so the bound holds at any N).
 */
async function issueOne(api: CertificateApi, inputs: HollowCredentialsInputs, nodeName: string, clock: Clock,
    requested: string[]): Promise<NodeCertificate> {
    const crypto = require("crypto") as typeof import("crypto");
    const { keyPem, csrPem } = kubeletKeyAndCsr(nodeName);
    const name = csrName(nodeName, clock.now());
    requested.push(name);
    await api.requestAndApprove({
        name, csrPem, expirationSeconds: inputs.lifetimeSeconds,
        labels: { [inputs.stackLabelKey]: inputs.stackLabelValue },
        reason: `hollow node ${nodeName} of ${inputs.stackLabelKey}=${inputs.stackLabelValue}, approved by kubemark-pulumi`,
    });
    const deadline = clock.now() + inputs.timeoutSeconds * 1000;
    let wait = SIGN_POLL_FIRST_MS;
    for (;;) {
        const state = await api.readCsr(name);
        if (state?.refused) {
            throw new Error(`CertificateSigningRequest ${name} was refused (${state.refused})`);
        }
        if (state?.certificate) {
            const cert = new crypto.X509Certificate(state.certificate);
            return {
                certPem: state.certificate, keyPem, csrName: name,
                notBefore: new Date(cert.validFrom).toISOString(), notAfter: new Date(cert.validTo).toISOString(),
            };
        }
        if (clock.now() >= deadline) {
            throw new Error(`CertificateSigningRequest ${name} was approved but not signed in time: the target's ` +
                "kube-controller-manager must run its csrsigning controller with --cluster-signing-cert-file and --cluster-signing-key-file " +
                "(kubeadm, EKS, GKE and AKS clusters do)");
        }
        await clock.sleep(wait);
        wait = Math.min(wait * 2, SIGN_POLL_MAX_MS);
    }
}

export class HollowCredentialsProvider implements pulumi.dynamic.ResourceProvider {
    constructor(private readonly makeApi?: CertificateApiFactory, private readonly clock?: Clock, private readonly log?: Log,
        private readonly cancel?: EngineCancel) {}

    /** Certificates for `wanted` names, reusing `kept`; fails naming the nodes left without one. */
    private async issue(inputs: HollowCredentialsInputs, kept: Record<string, NodeCertificate>,
        keptTokens: Record<string, ServiceAccountToken> = {}): Promise<HollowCredentialsOutputs> {
        const cancel = this.cancel ?? engineCancel();
        const clock = cancellable(this.clock ?? realClock, cancel.signal);
        const log = this.log ?? providerLog;
        const make = this.makeApi ?? kubernetesCertificateApi;
        const api = make(inputs.targetKubeconfig, REQUEST_MS, cancel.signal);
        const certificates: Record<string, NodeCertificate> = {};
        const missing = inputs.nodeNames.filter((n) => {
            if (kept[n]) {
                certificates[n] = kept[n];
                return false;
            }
            return true;
        });
        if (missing.length > 0) {
            log(`issuing ${missing.length} hollow kubelet client certificate(s) through ${api.server} ` +
                `${waitAdvice(cancel, inputs.timeoutSeconds, "up")}`);
        }
        let lastProgress = clock.now();
        const requested: string[] = [];
        const failures = await forEachLimited(missing, ISSUE_CONCURRENCY, async (nodeName) => {
            certificates[nodeName] = await issueOne(api, inputs, nodeName, clock, requested);
            if (clock.now() - lastProgress >= PROGRESS_EVERY_MS) {
                log(`${Object.keys(certificates).length}/${inputs.nodeNames.length} hollow kubelet certificates issued`);
                lastProgress = clock.now();
            }
        });
        // Revokes every request of this attempt, signed or not, with calls a Ctrl-C does not stop: a failed or
        // cancelled up leaves no approved CSR behind, nor a half-issued set in state.
        const revoke = async (failure: unknown) => {
            const cleanup = make(inputs.targetKubeconfig, REQUEST_MS);
            await forEachLimited(requested, ISSUE_CONCURRENCY, (name) => cleanup.deleteCsr(name));
            if (isCancelled(failure)) {
                return new Error(`cancelled (Ctrl-C) while issuing the hollow nodes' credentials: the ${requested.length} ` +
                    "certificate(s) requested in this run were revoked, and the next `pulumi up` issues them again");
            }
            return undefined;
        };
        if (failures.length > 0) {
            const left = inputs.nodeNames.filter((n) => !certificates[n]);
            throw await revoke(failures.find(isCancelled)) ?? new Error(`${failures.length} of ${missing.length} hollow kubelet ` +
                `certificate(s) could not be issued on ${api.server} (${(failures[0] as Error).message}); without one: ${someNames(left)}`);
        }
        const tokens: Record<string, ServiceAccountToken> = {};
        try {
            for (const account of inputs.serviceAccounts) {
                if (keptTokens[account]) {
                    tokens[account] = keptTokens[account];
                } else {
                    const issued = new Date(clock.now()).toISOString();
                    tokens[account] = { issued, ...await api.requestToken(inputs.identityNamespace, account, inputs.lifetimeSeconds) };
                }
            }
        } catch (e) {
            throw await revoke(e) ?? e;
        }
        return { ...inputs, certificates, tokens };
    }

    async create(inputs: HollowCredentialsInputs): Promise<pulumi.dynamic.CreateResult> {
        return { id: `${inputs.stackLabelKey}=${inputs.stackLabelValue}`, outs: await this.issue(inputs, {}) };
    }

    async diff(_id: string, olds: HollowCredentialsOutputs, news: HollowCredentialsInputs): Promise<pulumi.dynamic.DiffResult> {
        const now = (this.clock ?? realClock).now();
        const keys: (keyof HollowCredentialsInputs)[] = ["providerVersion", "stackLabelKey", "stackLabelValue", "nodeNames",
            "lifetimeSeconds", "identityNamespace", "serviceAccounts", "timeoutSeconds"];
        const changed = keys.some((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
        // Time alone makes a change: an up before expiry renews, so running hollow nodes never lose their identity.
        const expiring = Object.values(olds.certificates ?? {}).some((c) => needsRenewal(c.notBefore, c.notAfter, now))
            || Object.values(olds.tokens ?? {}).some((t) => needsRenewal(t.issued, t.expires, now));
        const replaces = olds.stackLabelValue !== news.stackLabelValue || olds.stackLabelKey !== news.stackLabelKey ? ["stackLabelValue"] : [];
        return { changes: changed || expiring || olds.targetKubeconfig !== news.targetKubeconfig, replaces, deleteBeforeReplace: false };
    }

    async update(_id: string, olds: HollowCredentialsOutputs, news: HollowCredentialsInputs): Promise<pulumi.dynamic.UpdateResult> {
        const now = (this.clock ?? realClock).now();
        const wanted = new Set(news.nodeNames);
        const kept: Record<string, NodeCertificate> = {};
        const dropped: NodeCertificate[] = [];
        for (const [node, cert] of Object.entries(olds.certificates ?? {})) {
            if (wanted.has(node) && olds.lifetimeSeconds === news.lifetimeSeconds && !needsRenewal(cert.notBefore, cert.notAfter, now)) {
                kept[node] = cert;
            } else {
                dropped.push(cert);
            }
        }
        // A token is kept like a certificate: a new one only when due, so scaling never restarts running pods.
        const sameTokens = olds.identityNamespace === news.identityNamespace && olds.lifetimeSeconds === news.lifetimeSeconds;
        const keptTokens = Object.fromEntries(Object.entries(olds.tokens ?? {})
            .filter(([account, t]) => sameTokens && news.serviceAccounts.includes(account) && !needsRenewal(t.issued, t.expires, now)));
        const outs = await this.issue(news, kept, keptTokens);
        const api = (this.makeApi ?? kubernetesCertificateApi)(news.targetKubeconfig, REQUEST_MS);
        await forEachLimited(dropped, ISSUE_CONCURRENCY, (c) => api.deleteCsr(c.csrName));
        return { outs };
    }

    /**
     * Deletes every CSR of the stack, patient with a target busy with the hollow pods' stop (within `timeoutSeconds`).
     * A certificate cannot be revoked: it works until its notAfter for its own Node only.
     */
    async delete(_id: string, props: HollowCredentialsOutputs): Promise<void> {
        const cancel = this.cancel ?? engineCancel();
        const clock = cancellable(this.clock ?? realClock, cancel.signal);
        const log = this.log ?? providerLog;
        const api = (this.makeApi ?? kubernetesCertificateApi)(props.targetKubeconfig, REQUEST_MS, cancel.signal);
        const deadline = clock.now() + props.timeoutSeconds * 1000;
        const selector = `${props.stackLabelKey}=${props.stackLabelValue}`;
        const look = patientLook<string[]>("destroy", deadline, clock, log);
        try {
            for (;;) {
                const names = await look(() => api.listCsrs(selector));
                const failures = await forEachLimited(names, ISSUE_CONCURRENCY, (n) => api.deleteCsr(n));
                if (failures.length === 0) {
                    return;
                }
                const cancelled = failures.find(isCancelled);
                if (cancelled) {
                    throw cancelled;
                }
                if (!failures.every(isUnreachable) || clock.now() >= deadline) {
                    throw new Error(`${failures.length} CertificateSigningRequest(s) of ${props.stackLabelValue} could not be deleted on ` +
                        `${api.server}: ${(failures[0] as Error).message}`);
                }
                log(`destroy: ${failures.length} CertificateSigningRequest delete(s) without an answer; trying them again`);
                await clock.sleep(POLL_MS);
            }
        } catch (e) {
            if (isCancelled(e)) {
                throw new Error(`destroy cancelled (Ctrl-C) before every CertificateSigningRequest of ${props.stackLabelValue} was deleted: ` +
                    "run `pulumi destroy` again to finish");
            }
            if (isUnreachable(e)) {
                throw new Error(`cannot reach the target cluster's API server ${api.server} (${e.message}); the CertificateSigningRequests ` +
                    `of ${props.stackLabelValue} were not deleted. ${RETRY_ADVICE}`);
            }
            throw e;
        }
    }
}
