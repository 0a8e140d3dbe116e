// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

/// @title Multicall
/// @notice Batches read calls for diagnostics. It exposes the Multicall3 function signatures that
/// facilitators and viem use (aggregate, tryAggregate, aggregate3 and the block getters) so that
/// the devnet can place this contract's runtime code at the canonical Multicall3 address. It has
/// no constructor logic and no storage, which is what makes a genesis placement of the runtime
/// code equivalent to a deployment.
contract Multicall {
    struct Call {
        address target;
        bytes callData;
    }

    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    /// @notice Runs every call and reverts if any of them fails.
    function aggregate(Call[] calldata calls) external returns (uint256 blockNumber, bytes[] memory returnData) {
        blockNumber = block.number;
        returnData = new bytes[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool ok, bytes memory ret) = calls[i].target.call(calls[i].callData);
            require(ok, "Multicall: call failed");
            returnData[i] = ret;
        }
    }

    /// @notice Runs every call; with requireSuccess false a failing call is reported in its
    /// Result instead of reverting the batch.
    function tryAggregate(bool requireSuccess, Call[] calldata calls) public returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool ok, bytes memory ret) = calls[i].target.call(calls[i].callData);
            if (requireSuccess) {
                require(ok, "Multicall: call failed");
            }
            returnData[i] = Result(ok, ret);
        }
    }

    /// @notice Runs every call; a failing call reverts the batch unless its allowFailure is set.
    function aggregate3(Call3[] calldata calls) external returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool ok, bytes memory ret) = calls[i].target.call(calls[i].callData);
            require(ok || calls[i].allowFailure, "Multicall: call failed");
            returnData[i] = Result(ok, ret);
        }
    }

    function getBlockNumber() external view returns (uint256) {
        return block.number;
    }

    function getCurrentBlockTimestamp() external view returns (uint256) {
        return block.timestamp;
    }

    function getChainId() external view returns (uint256) {
        return block.chainid;
    }

    function getEthBalance(address addr) external view returns (uint256) {
        return addr.balance;
    }
}
