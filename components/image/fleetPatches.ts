// The fleet patches: hollow Nodes with a given capacity, pod IPs of their podCIDR, and pods that finish (issue 26).
import * as fs from "fs";
import * as path from "path";
import type { KubernetesVersion } from "../config/settings";
import type { SourcePatch } from "../../scripts/patch-source";
import type { MinorRange } from "./minors";

export const HOLLOW_NODE_FILE = "cmd/kubemark/app/hollow_node.go";
/** Where the patches' Go files go: beside hollow_node.go, in its package, under names upstream does not use. */
const TREE_DIR = "cmd/kubemark/app";

/**
 * Every tested minor (v1.29 on) fakes a 1-core, 3.75 GiB machine with no ephemeral storage, one pod IP and containers
 * that never end; the anchors and the CRI signatures the wrappers use are the same from v1.29 through v1.37.
 */
export const CAPACITY_MINORS: MinorRange = { from: 29 };
export const POD_IPS_MINORS: MinorRange = { from: 29 };
export const LIFECYCLE_MINORS: MinorRange = { from: 29 };
/**
 * v1.37 gave cadvisor's MachineInfo and the container manager's GetCapacity a logger (and moved MachineInfo to
 * cadvisor's lib/model): the capacity wrappers' two methods of those signatures come in two files.
 */
export const CAPACITY_LOGGER_MINORS: MinorRange = { from: 37 };

/**
 * Where the Go files live: the repository's patches/kubemark, found above this file (in the sources or build/) or
 * above the working folder (Pulumi runs the program in the project; a build compiled elsewhere runs from it too).
 */
export function fleetSourceDir(starts: readonly string[] = [__dirname, process.cwd()]): string {
    for (const start of starts) {
        for (let dir = start; ; dir = path.dirname(dir)) {
            const candidate = path.join(dir, "patches", "kubemark");
            if (fs.existsSync(path.join(candidate, "capacity.go"))) {
                return candidate;
            }
            if (path.dirname(dir) === dir) {
                break;
            }
        }
    }
    throw new Error(`patches/kubemark/capacity.go is neither above ${starts.join(" nor above ")}`);
}

const goFile = (name: string, treeName: string) => ({
    file: `${TREE_DIR}/kubemark_pulumi_${treeName}.go`,
    content: fs.readFileSync(path.join(fleetSourceDir(), name), "utf8"),
});

/** The hollow kubelet gets the flag's capacity through wrappers of its fake cadvisor and stub container manager. */
export function capacityPatch(minor: number): SourcePatch {
    const methods = minor >= CAPACITY_LOGGER_MINORS.from ? "capacity_methods_v1.37.go" : "capacity_methods_v1.29.go";
    return {
        id: "capacity",
        file: HOLLOW_NODE_FILE,
        variants: [{
            anchor: "\t\t\tcadvisorInterface,\n\t\t\timageService,\n\t\t\truntimeService,\n\t\t\tcontainerManager,\n\t\t)\n",
            replacement: "\t\t\thollowNodeCapacity.cadvisor(cadvisorInterface),\n\t\t\timageService,\n\t\t\truntimeService,\n" +
                "\t\t\thollowNodeCapacity.containerManager(containerManager),\n\t\t)\n",
        }],
        adds: [goFile("capacity.go", "capacity"), goFile(methods, "capacity_methods")],
    };
}

const RUNTIME_ERROR_BLOCK = '\t\t\treturn fmt.Errorf("Failed to init runtime service, error: %w", err)\n\t\t}\n';
const IMAGE_SERVICE_LINE = "\t\tvar imageService internalapi.ImageManagerService = fakeRemoteRuntime.ImageService\n";

/**
 * The runtime service the kubelet gets reports a pod IP of the Node's podCIDR per sandbox; it reads the Node through
 * the hollow kubelet's client (`client`, in scope at the anchor from v1.29 through v1.37) when the kubelet has not yet
 * passed the podCIDR on.
 */
export function podIPsPatch(): SourcePatch {
    return {
        id: "podips",
        file: HOLLOW_NODE_FILE,
        variants: [{ anchor: RUNTIME_ERROR_BLOCK, replacement: `${RUNTIME_ERROR_BLOCK}\t\truntimeService = withPodIPs(runtimeService, client.CoreV1().Nodes(), config.NodeName)\n` }],
        adds: [goFile("podips.go", "podips")],
    };
}

/** The runtime service the kubelet gets ends an annotated pod's containers on time. */
export function lifecyclePatch(): SourcePatch {
    return {
        id: "lifecycle",
        file: HOLLOW_NODE_FILE,
        variants: [{ anchor: IMAGE_SERVICE_LINE, replacement: `\t\truntimeService = withLifecycle(runtimeService)\n\n${IMAGE_SERVICE_LINE}` }],
        adds: [goFile("lifecycle.go", "lifecycle")],
    };
}

/** The fleet patches a release gets, in their fixed order. */
export function fleetPatches(version: KubernetesVersion, inRange: (range: MinorRange) => boolean): SourcePatch[] {
    return [
        ...(inRange(CAPACITY_MINORS) ? [capacityPatch(version.minor)] : []),
        ...(inRange(POD_IPS_MINORS) ? [podIPsPatch()] : []),
        ...(inRange(LIFECYCLE_MINORS) ? [lifecyclePatch()] : []),
    ];
}
