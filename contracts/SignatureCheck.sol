// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

/// @title SignatureCheck
/// @notice Signature validation shared by the devnet contracts: plain secp256k1 ECDSA over a
/// 32-byte digest (65-byte r || s || v) and code-routed validation (EIP-1271 for addresses with
/// code, ECDSA otherwise), as USDC v2.2 and the x402 reference facilitator do.
library SignatureCheck {
    /// @dev EIP-1271 magic value: bytes4(keccak256("isValidSignature(bytes32,bytes)")).
    bytes4 internal constant ERC1271_MAGIC = 0x1626ba7e;

    /// @dev secp256k1 group order divided by two. Signatures with a larger s are the malleable
    /// twin of a canonical one (EIP-2), so they are refused.
    uint256 internal constant HALF_ORDER =
        0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// @notice Recovers the signer of digest from a 65-byte r || s || v signature.
    /// @return signer the recovered address, or address(0) when the signature is malformed,
    /// non-canonical (high s, v not 27/28) or does not recover.
    function recover(bytes32 digest, bytes memory signature) internal pure returns (address signer) {
        if (signature.length != 65) {
            return address(0);
        }
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
            v := byte(0, mload(add(signature, 0x60)))
        }
        return recoverVRS(digest, v, r, s);
    }

    /// @notice Like recover, for a signature already split into v, r and s.
    function recoverVRS(bytes32 digest, uint8 v, bytes32 r, bytes32 s) internal pure returns (address) {
        if (uint256(s) > HALF_ORDER || (v != 27 && v != 28)) {
            return address(0);
        }
        return ecrecover(digest, v, r, s);
    }

    /// @notice Reports whether signature is valid for signer over digest. Addresses with code are
    /// asked through EIP-1271 and never fall back to ECDSA; other addresses must produce a
    /// 65-byte ECDSA signature. The zero address never signs.
    function isValidNow(address signer, bytes32 digest, bytes memory signature) internal view returns (bool) {
        if (signer == address(0)) {
            return false;
        }
        if (signer.code.length > 0) {
            return isValidERC1271Now(signer, digest, signature);
        }
        return recover(digest, signature) == signer;
    }

    /// @notice Calls isValidSignature(digest, signature) on wallet and checks for the magic value.
    /// A revert, a short return or any other value counts as invalid.
    function isValidERC1271Now(address wallet, bytes32 digest, bytes memory signature)
        internal
        view
        returns (bool)
    {
        (bool ok, bytes memory ret) =
            wallet.staticcall(abi.encodeWithSelector(ERC1271_MAGIC, digest, signature));
        return ok && ret.length >= 32 && abi.decode(ret, (bytes32)) == bytes32(ERC1271_MAGIC);
    }
}
