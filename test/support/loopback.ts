/**
 * The suites' simulators, receivers and stand-ins listen on loopback, which the outbound address
 * policy refuses by default; every server the suites start allows it, as an operator with a local
 * upstream would. Tests of the policy itself start servers without it.
 */
export const LOOPBACK_UPSTREAMS = "127.0.0.0/8,::1/128";
