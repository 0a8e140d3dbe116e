package facilitator

// Reason codes carried as invalidReason (verify) and errorReason (settle). The strings are the
// reference's (@x402/evm 2.27 and the x402 v2 specification) so that resource servers and
// clients written against the reference understand them.
const (
	ReasonScheme                = "invalid_exact_evm_scheme"
	ReasonMissingDomain         = "invalid_exact_evm_missing_eip712_domain"
	ReasonNetworkMismatch       = "invalid_exact_evm_network_mismatch"
	ReasonSignature             = "invalid_exact_evm_signature"
	ReasonParseSignature        = "invalid_exact_evm_failed_to_parse_signature"
	ReasonRecipientMismatch     = "invalid_exact_evm_recipient_mismatch"
	ReasonValidBefore           = "invalid_exact_evm_payload_authorization_valid_before"
	ReasonValidAfter            = "invalid_exact_evm_payload_authorization_valid_after"
	ReasonValueMismatch         = "invalid_exact_evm_payload_authorization_value_mismatch" // v2
	ReasonValueMismatchV1       = "invalid_exact_evm_authorization_value"                  // v1
	ReasonAssetNotDeployed      = "asset_not_deployed_contract"
	ReasonEIP3009NotSupported   = "invalid_exact_evm_eip3009_not_supported"
	ReasonNonceUsed             = "invalid_exact_evm_nonce_already_used"
	ReasonTokenNameMismatch     = "invalid_exact_evm_token_name_mismatch"
	ReasonTokenVersionMismatch  = "invalid_exact_evm_token_version_mismatch"
	ReasonInsufficientBalance   = "invalid_exact_evm_insufficient_balance"
	ReasonSimulationFailed      = "invalid_exact_evm_transaction_simulation_failed"
	ReasonTransactionFailed     = "invalid_exact_evm_transaction_failed"
	ReasonTransferEventMismatch = "invalid_exact_evm_transfer_event_mismatch"
	ReasonSettlementPending     = "settlement_pending"
	// ReasonInvalidPayload and ReasonInvalidRequirements come from the x402 v2 specification's
	// list: a scheme payload or requirement whose fields do not parse (the reference throws and
	// its HTTP wrapper answers 500; fleetkey answers the payment problem as data).
	ReasonInvalidPayload      = "invalid_payload"
	ReasonInvalidRequirements = "invalid_payment_requirements"
)
