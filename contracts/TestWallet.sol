// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {SignatureCheck} from "./SignatureCheck.sol";

/// @title TestWallet
/// @notice A minimal EIP-1271 contract wallet for tests: a signature is valid when it is a
/// canonical 65-byte ECDSA signature of the digest itself by the owner EOA. The owner can make
/// the wallet call other contracts (for example to move the tokens it holds).
contract TestWallet {
    bytes4 private constant MAGIC = 0x1626ba7e;
    bytes4 private constant INVALID = 0xffffffff;

    address public immutable owner;

    constructor(address owner_) {
        require(owner_ != address(0), "TestWallet: zero owner");
        owner = owner_;
    }

    /// @notice EIP-1271: returns 0x1626ba7e when signature is the owner's signature of digest.
    function isValidSignature(bytes32 digest, bytes calldata signature) external view returns (bytes4) {
        if (SignatureCheck.recover(digest, signature) == owner) {
            return MAGIC;
        }
        return INVALID;
    }

    /// @notice Calls target with data and value on the owner's behalf, bubbling up a revert.
    function execute(address target, uint256 value, bytes calldata data) external returns (bytes memory) {
        require(msg.sender == owner, "TestWallet: caller is not the owner");
        (bool ok, bytes memory ret) = target.call{value: value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return ret;
    }

    receive() external payable {}
}
