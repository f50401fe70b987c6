// Errors of the VPP API client: a rejected request carries VPP's retval and its error-table name.

/** Names of VPP's API error codes (vnet api_errno) that a forwarder meets; others print as numbers. */
export const VPP_ERRORS: Record<number, string> = {
  [-1]: 'UNSPECIFIED',
  [-2]: 'INVALID_SW_IF_INDEX',
  [-3]: 'NO_SUCH_FIB',
  [-4]: 'NO_SUCH_INNER_FIB',
  [-5]: 'NO_SUCH_LABEL',
  [-6]: 'NO_SUCH_ENTRY',
  [-7]: 'INVALID_VALUE',
  [-8]: 'INVALID_VALUE_2',
  [-9]: 'UNIMPLEMENTED',
  [-10]: 'INVALID_SW_IF_INDEX_2',
  [-11]: 'SYSCALL_ERROR_1',
  [-12]: 'SYSCALL_ERROR_2',
  [-13]: 'SYSCALL_ERROR_3',
  [-55]: 'INVALID_VLAN',
  [-56]: 'VLAN_ALREADY_EXISTS',
  [-60]: 'ADDRESS_NOT_FOUND_FOR_INTERFACE',
  [-62]: 'IP6_NOT_ENABLED',
  [-68]: 'SUBIF_ALREADY_EXISTS',
  [-71]: 'INVALID_INTERFACE',
  [-72]: 'INVALID_VLAN_TAG_COUNT',
  [-73]: 'INVALID_ARGUMENT',
  [-74]: 'UNEXPECTED_INTF_STATE',
  [-75]: 'TUNNEL_EXIST',
  [-79]: 'IF_ALREADY_EXISTS',
  [-81]: 'VALUE_EXIST',
  [-82]: 'SAME_SRC_DST',
  [-98]: 'INVALID_SUB_SW_IF_INDEX',
  [-105]: 'ADDRESS_IN_USE',
  [-114]: 'ADDRESS_FOUND_FOR_INTERFACE',
};

export const vppErrorName = (retval: number): string => VPP_ERRORS[retval] ?? `error ${retval}`;

/** VPP answered a request with a negative retval. */
export class VppApiError extends Error {
  override readonly name = 'VppApiError';
  constructor(
    /** The request's message name (without CRC). */
    readonly request: string,
    readonly retval: number,
    /** The whole decoded reply: some replies carry fields even on failure. */
    readonly reply?: Record<string, unknown>,
  ) {
    super(`VPP rejected ${request}: retval ${retval} (${vppErrorName(retval)})`);
  }
  get code(): string {
    return vppErrorName(this.retval);
  }
}

/** The VPP API socket could not be used at all: not reachable, closed, timed out, or a protocol fault. */
export class VppConnectionError extends Error {
  override readonly name = 'VppConnectionError';
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
  }
}

/** The running VPP lacks a message, or has another definition of it (a different CRC). */
export class VppUnsupportedError extends Error {
  override readonly name = 'VppUnsupportedError';
  constructor(readonly message_: string) {
    super(`the connected VPP has no message ${message_} (missing plugin, or a different VPP version with another definition)`);
  }
}
