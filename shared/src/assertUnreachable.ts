/** Ends a `switch` over a union: the compiler fails here if a case is missing. */
export function assertUnreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
