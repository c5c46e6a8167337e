// Version-aware kubemark source patches: which apply to a release, their anchors, and the tag suffix they make.
import { createHash } from "crypto";
import type { KubernetesVersion } from "../config/settings";
import { CRI_SOCKETS } from "../config/defaults";
import { NAME_HASH_CHARS } from "../config/settings";

import type { SourcePatch } from "../../scripts/patch-source";
import { fleetPatches } from "./fleetPatches";
import { inMinors, MinorRange, minorsText } from "./minors";

export { inMinors, minorsText };
export type { MinorRange };

export { CAPACITY_LOGGER_MINORS, CAPACITY_MINORS, LIFECYCLE_MINORS, POD_IPS_MINORS } from "./fleetPatches";

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
 * on in v1.30, GA in v1.31, gate gone and the handler unconditional in v1.33). Guard on nil; PROXY_HEALTH_MINORS.
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


/** kubemark hard-codes containerd's image endpoint from v1.27 on (no flag), in every release since. */
export const CRIO_MINORS: MinorRange = { from: 27 };
/**
 * The hollow proxy panics from v1.30 (the gate defaults on) through v1.33. v1.34 removed NodeEligibleHandler: Run()
 * skips node handlers when the ProxyServer has no NodeManager, which the hollow proxy never sets, so the nil health
 * server is never reached, and the patch's anchor is gone with it.
 */
export const PROXY_HEALTH_MINORS: MinorRange = { from: 30, through: 33 };


export interface PatchChoice {
    /** Patch the image endpoint to this cri-o socket; undefined leaves containerd's. */
    readonly crioSocket?: string;
    /** Guard the nil health server where the release needs it. */
    readonly proxyHealth: boolean;
    /** The fleet patches (fleetPatches.ts): --node-capacity, pod IPs of the podCIDR, pods that finish. */
    readonly fleet: boolean;
}

/** Built images get the fleet patches unless a stack says otherwise: without their flag or annotations, no change. */
export const DEFAULT_PATCH_FLEET = true;

/**
 * The patches a release gets for a choice, in a fixed order. A patch is added only for the minors it is written
 * for, so a release that does not need it never looks for its anchor.
 */
export function patchesFor(version: KubernetesVersion, choice: PatchChoice): SourcePatch[] {
    const patches: SourcePatch[] = [];
    if (choice.crioSocket !== undefined && inMinors(version.minor, CRIO_MINORS)) {
        patches.push(crioEndpointPatch(choice.crioSocket));
    }
    if (choice.proxyHealth && inMinors(version.minor, PROXY_HEALTH_MINORS)) {
        patches.push(PROXY_HEALTH_PATCH);
    }
    if (choice.fleet) {
        patches.push(...fleetPatches(version, (range) => inMinors(version.minor, range)));
    }
    return patches;
}

/** `v1.31.0` or `v1.31.0-crio-proxyfix-capacity-podips-lifecycle`: the patch set is part of the tag. */
export function imageTag(version: KubernetesVersion, patches: readonly SourcePatch[]): string {
    return [version.text, ...patches.map((p) => p.id)].join("-");
}
