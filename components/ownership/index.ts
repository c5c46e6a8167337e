// A stack never takes over what it did not create: the OwnershipGuard, its provider and the rules it applies.
export * from "./guard";
export * from "./provider";
export * from "./rules";
