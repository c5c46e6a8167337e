// What the hollow pods get: their kubeconfigs (the operator's cluster entry, their own user) and certificate Secrets.
import * as yaml from "js-yaml";
import type { NodeCertificate } from "./csr";

/** Where the pod sees its credentials; each container mounts only its own files there. */
export const CREDENTIALS_MOUNT = "/kubeconfig";
export const KUBELET_KUBECONFIG_KEY = "kubelet.kubeconfig";
export const PROXY_KUBECONFIG_KEY = "kubeproxy.kubeconfig";
export const KUBELET_CERT_FILE = "tls.crt";
export const KUBELET_KEY_FILE = "tls.key";
/**
 * Nodes per certificate Secret. A Secret holds at most 1 MiB; a P-256 certificate and key take about
 * 0.9 KB, so 500 leave room, and a 5,000-node stack needs ten Secrets.
 */
export const NODES_PER_SECRET = 500;

/** Secret keys of a node's certificate and key: the pod picks its own by name with subPathExpr. */
export const certKey = (nodeName: string) => `${nodeName}.crt`;
export const keyKey = (nodeName: string) => `${nodeName}.key`;

/** Splits the certificates into Secret-sized shards, in node-name order so shard contents are stable. */
export function certificateShards(certs: Readonly<Record<string, NodeCertificate>>, perSecret = NODES_PER_SECRET): Record<string, string>[] {
    const names = Object.keys(certs).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    const shards: Record<string, string>[] = [];
    for (let i = 0; i < names.length; i += perSecret) {
        shards.push(Object.fromEntries(names.slice(i, i + perSecret).flatMap((n) => [[certKey(n), certs[n].certPem], [keyKey(n), certs[n].keyPem]])));
    }
    return shards;
}

/** How many certificate Secrets `nodeCount` nodes need. */
export const shardCount = (nodeCount: number, perSecret = NODES_PER_SECRET) => Math.ceil(nodeCount / perSecret);

interface Doc {
    "current-context"?: string;
    contexts?: { name: string; context?: { cluster?: string } }[];
    clusters?: { name: string; cluster?: Record<string, unknown> }[];
}

/** The operator's cluster entry (server, CA, TLS name, proxy): what the pods need to reach and trust the target. */
export function clusterEntry(operatorKubeconfig: string): Record<string, unknown> {
    const doc = (yaml.load(operatorKubeconfig) ?? {}) as Doc;
    const ctx = (doc.contexts ?? []).find((c) => c.name === doc["current-context"]);
    const cluster = (doc.clusters ?? []).find((c) => c.name === ctx?.context?.cluster)?.cluster;
    if (!cluster || !cluster.server) {
        throw new Error("the target kubeconfig's current context has no cluster with a server");
    }
    return { ...cluster };
}

function kubeconfig(cluster: Record<string, unknown>, user: string, userEntry: Record<string, unknown>): string {
    return yaml.dump({
        apiVersion: "v1", kind: "Config", "current-context": "target",
        clusters: [{ name: "target", cluster }],
        users: [{ name: user, user: userEntry }],
        contexts: [{ name: "target", context: { cluster: "target", user } }],
    }, { lineWidth: -1, sortKeys: true });
}

/** The hollow kubelet's kubeconfig: the operator's cluster entry, and the pod's own certificate files. */
export function kubeletKubeconfig(operatorKubeconfig: string): string {
    return kubeconfig(clusterEntry(operatorKubeconfig), "hollow-kubelet", {
        "client-certificate": `${CREDENTIALS_MOUNT}/${KUBELET_CERT_FILE}`,
        "client-key": `${CREDENTIALS_MOUNT}/${KUBELET_KEY_FILE}`,
    });
}

/** A kubeconfig with a ServiceAccount's bound token: the proxy's, or the kubelets' shared one. */
export function tokenKubeconfig(operatorKubeconfig: string, account: string, token: string): string {
    return kubeconfig(clusterEntry(operatorKubeconfig), account, { token });
}

