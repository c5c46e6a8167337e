// The kubemark image pipeline as data: the script steps, their environments, the build context and the tag.
import * as path from "path";
import { DEFAULT_BASE_IMAGE, DEFAULT_GIT_REPOSITORY, DEFAULT_IMAGE_NAME, DEFAULT_IMAGE_SOURCE, defaultCacheDir } from "../config/defaults";

export { defaultCacheDir };
import { IMAGE_SOURCES } from "../config/settings";
import type { SourcePatch } from "./patches";

export type ImageSourceKind = typeof IMAGE_SOURCES[number];
/** Relative to the project root, where Pulumi runs the program: state stays the same across clones. */
export const IMAGE_SCRIPT = "scripts/kubemark-image.sh";
export const IMAGE_STEPS = ["preflight", "fetch", "patch", "build"] as const;
export type ImageStepName = typeof IMAGE_STEPS[number];

export interface ImagePlanArgs {
    /** Kubernetes release, vMAJOR.MINOR.PATCH. */
    readonly version: string;
    /** Registry to push to, host[:port][/path]. */
    readonly registry: string;
    /** Image tag: the version plus the patch set (see imageTag). */
    readonly tag: string;
    readonly patches?: readonly SourcePatch[];
    readonly source?: ImageSourceKind;
    readonly gitRepository?: string;
    /** Cache folder for sources and build contexts; the caller resolves its default. */
    readonly cacheDir: string;
    readonly baseImage?: string;
    readonly imageName?: string;
}

export interface ImageStep {
    readonly name: ImageStepName;
    /** Environment of `bash scripts/kubemark-image.sh <name>`. */
    readonly env: Readonly<Record<string, string>>;
    /** Values whose change reruns the step. */
    readonly triggers: readonly string[];
    /** The previous step's output reruns it too (a new source, a new overlay). */
    readonly chained: boolean;
}

export interface ImagePlan {
    readonly steps: readonly ImageStep[];
    /** Holds the built binary and the Dockerfile once `build` ran. */
    readonly contextDir: string;
    /** `<registry>/<name>:<tag>`. */
    readonly imageName: string;
    /** The registry host that credentials are for. */
    readonly registryServer: string;
}

/**
 * One plan for both ways the image is made: KubemarkImage turns each step into a local command,
 * and the lab runs the same steps directly, so the two cannot drift.
 */
export function imagePlan(args: ImagePlanArgs): ImagePlan {
    const source = args.source ?? DEFAULT_IMAGE_SOURCE;
    const patches = args.patches ?? [];
    const patchSet = patches.length > 0 ? patches.map((p) => p.id).join("-") : "none";
    const contextDir = path.join(args.cacheDir, "images", `${args.version}-${patchSet}-${source}`);
    const gitUrl = args.gitRepository ?? DEFAULT_GIT_REPOSITORY;
    const baseImage = args.baseImage ?? DEFAULT_BASE_IMAGE;
    const env = { KM_VERSION: args.version, KM_SOURCE: source, KM_CACHE: args.cacheDir, KM_GIT_URL: gitUrl };
    return {
        steps: [
            { name: "preflight", env: { KM_VERSION: args.version, KM_SOURCE: source, KM_CACHE: args.cacheDir }, triggers: [source], chained: false },
            { name: "fetch", env, triggers: [args.version, source, gitUrl], chained: false },
            { name: "patch", env: { ...env, KM_PATCHSET: patchSet, KUBEMARK_PATCHES: JSON.stringify(patches) }, triggers: [], chained: true },
            { name: "build", env: { ...env, KM_PATCHSET: patchSet, KM_CONTEXT: contextDir, KM_BASE_IMAGE: baseImage }, triggers: [baseImage], chained: true },
        ],
        contextDir,
        imageName: `${args.registry}/${args.imageName ?? DEFAULT_IMAGE_NAME}:${args.tag}`,
        registryServer: args.registry.split("/")[0],
    };
}
