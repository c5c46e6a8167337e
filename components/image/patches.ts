// Version-aware kubemark source patches: which apply to a release, their anchors, and the tag suffix they make.
import { createHash } from "crypto";
import type { KubernetesVersion } from "../config/settings";
import { CRI_SOCKETS } from "../config/defaults";
import { NAME_HASH_CHARS } from "../config/settings";

import type { SourcePatch } from "../../scripts/patch-source";

export type { SourcePatch };

export const HOLLOW_KUBELET_FILE = "pkg/kubemark/hollow_kubelet.go";
export const PROXY_SERVER_FILE = "cmd/kube-proxy/app/server.go";
const CONTAINERD_ENDPOINT_LINE = '\tc.ImageServiceEndpoint = "unix:///run/containerd/containerd.sock"\n';

/** kubemark hard-codes containerd's image endpoint (v1.27 onward, no flag): point it at cri-o's socket. */
export function crioEndpointPatch(socket: string): SourcePatch {
    return {
        id: socket === CRI_SOCKETS["cri-o"] ? "crio" : `crio.${createHash("sha256").update(socket).digest("hex").slice(0, NAME_HASH_CHARS)}`,
        file: HOLLOW_KUBELET_FILE,
        variants: [{ anchor: CONTAINERD_ENDPOINT_LINE, replacement: `\tc.ImageServiceEndpoint = "unix://${socket}"\n` }],
    };
}

/**
 * The hollow proxy builds a ProxyServer without HealthzServer, and Run() hands that nil to
 * NodeEligibleHandler, whose OnNodeAdd dereferences it (KubeProxyDrainingTerminatingNodes: beta and
 * on in v1.30, GA in v1.31, gate gone and the handler unconditional in v1.33). Guard on nil.
 */
export const PROXY_HEALTH_PATCH: SourcePatch = {
    id: "proxyfix",
    file: PROXY_SERVER_FILE,
    variants: [
        {
            anchor: "\tif utilfeature.DefaultFeatureGate.Enabled(features.KubeProxyDrainingTerminatingNodes) {\n" +
                "\t\tnodeConfig.RegisterEventHandler(&proxy.NodeEligibleHandler{\n",
            replacement: "\tif s.HealthzServer != nil && utilfeature.DefaultFeatureGate.Enabled(features.KubeProxyDrainingTerminatingNodes) {\n" +
                "\t\tnodeConfig.RegisterEventHandler(&proxy.NodeEligibleHandler{\n",
        },
        {
            anchor: "\tnodeConfig.RegisterEventHandler(&proxy.NodeEligibleHandler{\n" +
                "\t\tHealthServer: s.HealthzServer,\n" +
                "\t})\n",
            replacement: "\tif s.HealthzServer != nil {\n" +
                "\t\tnodeConfig.RegisterEventHandler(&proxy.NodeEligibleHandler{\n" +
                "\t\t\tHealthServer: s.HealthzServer,\n" +
                "\t\t})\n" +
                "\t}\n",
        },
    ],
};

/** First minor whose hollow proxy panics: the gate defaults on from v1.30. */
export const PROXY_PANIC_FROM_MINOR = 30;

export interface PatchChoice {
    /** Patch the image endpoint to this cri-o socket; undefined leaves containerd's. */
    readonly crioSocket?: string;
    /** Guard the nil health server where the release needs it. */
    readonly proxyHealth: boolean;
}

/** The patches a release gets for a choice, in a fixed order. */
export function patchesFor(version: KubernetesVersion, choice: PatchChoice): SourcePatch[] {
    const patches: SourcePatch[] = [];
    if (choice.crioSocket !== undefined) {
        patches.push(crioEndpointPatch(choice.crioSocket));
    }
    if (choice.proxyHealth && version.minor >= PROXY_PANIC_FROM_MINOR) {
        patches.push(PROXY_HEALTH_PATCH);
    }
    return patches;
}

/** `v1.31.0` or `v1.31.0-crio-proxyfix`: the patch set is part of the tag. */
export function imageTag(version: KubernetesVersion, patches: readonly SourcePatch[]): string {
    return [version.text, ...patches.map((p) => p.id)].join("-");
}
