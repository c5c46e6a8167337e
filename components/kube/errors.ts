// The two ways a provider's call ends without an answer: the API server gave none, or the user cancelled.

/** A call that got no HTTP answer at all: refused, timed out, DNS, TLS. Duck-typed, as it crosses serialization. */
export interface UnreachableError extends Error {
    readonly unreachable: true;
    readonly server: string;
}

export function unreachableError(server: string, cause: string): UnreachableError {
    return Object.assign(new Error(`no answer from ${server}: ${cause}`), { unreachable: true as const, server });
}

export function isUnreachable(e: unknown): e is UnreachableError {
    return (e as { unreachable?: unknown })?.unreachable === true;
}

/** The user stopped the command (Ctrl-C): a wait ends with this, not its bound. Duck-typed: crosses serialization. */
export interface CancelledError extends Error {
    readonly cancelled: true;
}

export function cancelledError(): CancelledError {
    return Object.assign(new Error("cancelled (Ctrl-C)"), { cancelled: true as const });
}

export function isCancelled(e: unknown): e is CancelledError {
    return (e as { cancelled?: unknown })?.cancelled === true;
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
    if (signal?.aborted) {
        throw cancelledError();
    }
}
