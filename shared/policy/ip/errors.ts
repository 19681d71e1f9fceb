/** A malformed IPv4/IPv6 address, CIDR or range. `input` is the offending text. */
export class InvalidIpError extends Error {
  override readonly name = 'InvalidIpError';
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid IP address or range ${JSON.stringify(input)}: ${reason}`);
  }
}
