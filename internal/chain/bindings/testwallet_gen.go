// Code generated - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package bindings

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/event"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = errors.New
	_ = big.NewInt
	_ = strings.NewReader
	_ = ethereum.NotFound
	_ = bind.Bind
	_ = common.Big1
	_ = types.BloomLookup
	_ = event.NewSubscription
	_ = abi.ConvertType
	_ = time.Tick
	_ = context.Background
)

// TestWalletMetaData contains all meta data concerning the TestWallet contract.
var TestWalletMetaData = &bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"address\",\"name\":\"owner_\",\"type\":\"address\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"target\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"},{\"internalType\":\"bytes\",\"name\":\"data\",\"type\":\"bytes\"}],\"name\":\"execute\",\"outputs\":[{\"internalType\":\"bytes\",\"name\":\"\",\"type\":\"bytes\"}],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"digest\",\"type\":\"bytes32\"},{\"internalType\":\"bytes\",\"name\":\"signature\",\"type\":\"bytes\"}],\"name\":\"isValidSignature\",\"outputs\":[{\"internalType\":\"bytes4\",\"name\":\"\",\"type\":\"bytes4\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"owner\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"stateMutability\":\"payable\",\"type\":\"receive\"}]",
	Bin: "0x60a060405234801561000f575f5ffd5b506040516105a83803806105a883398101604081905261002e91610099565b6001600160a01b0381166100885760405162461bcd60e51b815260206004820152601660248201527f5465737457616c6c65743a207a65726f206f776e657200000000000000000000604482015260640160405180910390fd5b6001600160a01b03166080526100c6565b5f602082840312156100a9575f5ffd5b81516001600160a01b03811681146100bf575f5ffd5b9392505050565b6080516104be6100ea5f395f8181608f0152818160f8015261019a01526104be5ff3fe608060405260043610610036575f3560e01c80631626ba7e146100415780638da5cb5b1461007e578063b61d27f6146100c9575f5ffd5b3661003d57005b5f5ffd5b34801561004c575f5ffd5b5061006061005b3660046103c2565b6100f5565b6040516001600160e01b031990911681526020015b60405180910390f35b348015610089575f5ffd5b506100b17f000000000000000000000000000000000000000000000000000000000000000081565b6040516001600160a01b039091168152602001610075565b3480156100d4575f5ffd5b506100e86100e336600461040a565b61018d565b604051610075919061046d565b5f7f00000000000000000000000000000000000000000000000000000000000000006001600160a01b031661015f8585858080601f0160208091040260200160405190810160405280939291908181526020018383808284375f9201919091525061029192505050565b6001600160a01b03160361017b5750630b135d3f60e11b610186565b506001600160e01b03195b9392505050565b6060336001600160a01b037f000000000000000000000000000000000000000000000000000000000000000016146102175760405162461bcd60e51b815260206004820152602360248201527f5465737457616c6c65743a2063616c6c6572206973206e6f7420746865206f776044820152623732b960e91b606482015260840160405180910390fd5b5f5f866001600160a01b03168686866040516102349291906104a2565b5f6040518083038185875af1925050503d805f811461026e576040519150601f19603f3d011682016040523d82523d5f602084013e610273565b606091505b50915091508161028557805160208201fd5b9150505b949350505050565b5f81516041146102a257505f6102c5565b6020820151604083015160608401515f1a6102bf868285856102cb565b93505050505b92915050565b5f7f7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a082118061030d57508360ff16601b1415801561030d57508360ff16601c14155b1561031957505f610289565b604080515f81526020810180835287905260ff861691810191909152606081018490526080810183905260019060a0016020604051602081039080840390855afa158015610369573d5f5f3e3d5ffd5b5050604051601f1901519695505050505050565b5f5f83601f84011261038d575f5ffd5b50813567ffffffffffffffff8111156103a4575f5ffd5b6020830191508360208285010111156103bb575f5ffd5b9250929050565b5f5f5f604084860312156103d4575f5ffd5b83359250602084013567ffffffffffffffff8111156103f1575f5ffd5b6103fd8682870161037d565b9497909650939450505050565b5f5f5f5f6060858703121561041d575f5ffd5b84356001600160a01b0381168114610433575f5ffd5b935060208501359250604085013567ffffffffffffffff811115610455575f5ffd5b6104618782880161037d565b95989497509550505050565b602081525f82518060208401528060208501604085015e5f604082850101526040601f19601f83011684010191505092915050565b818382375f910190815291905056fea164736f6c6343000825000a",
}

// TestWalletABI is the input ABI used to generate the binding from.
// Deprecated: Use TestWalletMetaData.ABI instead.
var TestWalletABI = TestWalletMetaData.ABI

// TestWalletBin is the compiled bytecode used for deploying new contracts.
// Deprecated: Use TestWalletMetaData.Bin instead.
var TestWalletBin = TestWalletMetaData.Bin

// DeployTestWallet deploys a new Ethereum contract, binding an instance of TestWallet to it.
func DeployTestWallet(auth *bind.TransactOpts, backend bind.ContractBackend, owner_ common.Address) (common.Address, *types.Transaction, *TestWallet, error) {
	parsed, err := TestWalletMetaData.GetAbi()
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	if parsed == nil {
		return common.Address{}, nil, nil, errors.New("GetABI returned nil")
	}

	address, tx, contract, err := bind.DeployContract(auth, *parsed, common.FromHex(TestWalletBin), backend, owner_)
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	return address, tx, &TestWallet{TestWalletCaller: TestWalletCaller{contract: contract}, TestWalletTransactor: TestWalletTransactor{contract: contract}, TestWalletFilterer: TestWalletFilterer{contract: contract}}, nil
}

// TestWallet is an auto generated Go binding around an Ethereum contract.
type TestWallet struct {
	TestWalletCaller     // Read-only binding to the contract
	TestWalletTransactor // Write-only binding to the contract
	TestWalletFilterer   // Log filterer for contract events
}

// TestWalletCaller is an auto generated read-only Go binding around an Ethereum contract.
type TestWalletCaller struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// TestWalletTransactor is an auto generated write-only Go binding around an Ethereum contract.
type TestWalletTransactor struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// TestWalletFilterer is an auto generated log filtering Go binding around an Ethereum contract events.
type TestWalletFilterer struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// TestWalletSession is an auto generated Go binding around an Ethereum contract,
// with pre-set call and transact options.
type TestWalletSession struct {
	Contract     *TestWallet       // Generic contract binding to set the session for
	CallOpts     bind.CallOpts     // Call options to use throughout this session
	TransactOpts bind.TransactOpts // Transaction auth options to use throughout this session
}

// TestWalletCallerSession is an auto generated read-only Go binding around an Ethereum contract,
// with pre-set call options.
type TestWalletCallerSession struct {
	Contract *TestWalletCaller // Generic contract caller binding to set the session for
	CallOpts bind.CallOpts     // Call options to use throughout this session
}

// TestWalletTransactorSession is an auto generated write-only Go binding around an Ethereum contract,
// with pre-set transact options.
type TestWalletTransactorSession struct {
	Contract     *TestWalletTransactor // Generic contract transactor binding to set the session for
	TransactOpts bind.TransactOpts     // Transaction auth options to use throughout this session
}

// TestWalletRaw is an auto generated low-level Go binding around an Ethereum contract.
type TestWalletRaw struct {
	Contract *TestWallet // Generic contract binding to access the raw methods on
}

// TestWalletCallerRaw is an auto generated low-level read-only Go binding around an Ethereum contract.
type TestWalletCallerRaw struct {
	Contract *TestWalletCaller // Generic read-only contract binding to access the raw methods on
}

// TestWalletTransactorRaw is an auto generated low-level write-only Go binding around an Ethereum contract.
type TestWalletTransactorRaw struct {
	Contract *TestWalletTransactor // Generic write-only contract binding to access the raw methods on
}

// NewTestWallet creates a new instance of TestWallet, bound to a specific deployed contract.
func NewTestWallet(address common.Address, backend bind.ContractBackend) (*TestWallet, error) {
	contract, err := bindTestWallet(address, backend, backend, backend)
	if err != nil {
		return nil, err
	}
	return &TestWallet{TestWalletCaller: TestWalletCaller{contract: contract}, TestWalletTransactor: TestWalletTransactor{contract: contract}, TestWalletFilterer: TestWalletFilterer{contract: contract}}, nil
}

// NewTestWalletCaller creates a new read-only instance of TestWallet, bound to a specific deployed contract.
func NewTestWalletCaller(address common.Address, caller bind.ContractCaller) (*TestWalletCaller, error) {
	contract, err := bindTestWallet(address, caller, nil, nil)
	if err != nil {
		return nil, err
	}
	return &TestWalletCaller{contract: contract}, nil
}

// NewTestWalletTransactor creates a new write-only instance of TestWallet, bound to a specific deployed contract.
func NewTestWalletTransactor(address common.Address, transactor bind.ContractTransactor) (*TestWalletTransactor, error) {
	contract, err := bindTestWallet(address, nil, transactor, nil)
	if err != nil {
		return nil, err
	}
	return &TestWalletTransactor{contract: contract}, nil
}

// NewTestWalletFilterer creates a new log filterer instance of TestWallet, bound to a specific deployed contract.
func NewTestWalletFilterer(address common.Address, filterer bind.ContractFilterer) (*TestWalletFilterer, error) {
	contract, err := bindTestWallet(address, nil, nil, filterer)
	if err != nil {
		return nil, err
	}
	return &TestWalletFilterer{contract: contract}, nil
}

// bindTestWallet binds a generic wrapper to an already deployed contract.
func bindTestWallet(address common.Address, caller bind.ContractCaller, transactor bind.ContractTransactor, filterer bind.ContractFilterer) (*bind.BoundContract, error) {
	parsed, err := TestWalletMetaData.GetAbi()
	if err != nil {
		return nil, err
	}
	return bind.NewBoundContract(address, *parsed, caller, transactor, filterer), nil
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_TestWallet *TestWalletRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _TestWallet.Contract.TestWalletCaller.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_TestWallet *TestWalletRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _TestWallet.Contract.TestWalletTransactor.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_TestWallet *TestWalletRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _TestWallet.Contract.TestWalletTransactor.contract.Transact(opts, method, params...)
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_TestWallet *TestWalletCallerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _TestWallet.Contract.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_TestWallet *TestWalletTransactorRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _TestWallet.Contract.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_TestWallet *TestWalletTransactorRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _TestWallet.Contract.contract.Transact(opts, method, params...)
}

// IsValidSignature is a free data retrieval call binding the contract method 0x1626ba7e.
//
// Solidity: function isValidSignature(bytes32 digest, bytes signature) view returns(bytes4)
func (_TestWallet *TestWalletCaller) IsValidSignature(opts *bind.CallOpts, digest [32]byte, signature []byte) ([4]byte, error) {
	var out []interface{}
	err := _TestWallet.contract.Call(opts, &out, "isValidSignature", digest, signature)

	if err != nil {
		return *new([4]byte), err
	}

	out0 := *abi.ConvertType(out[0], new([4]byte)).(*[4]byte)

	return out0, err

}

// IsValidSignature is a free data retrieval call binding the contract method 0x1626ba7e.
//
// Solidity: function isValidSignature(bytes32 digest, bytes signature) view returns(bytes4)
func (_TestWallet *TestWalletSession) IsValidSignature(digest [32]byte, signature []byte) ([4]byte, error) {
	return _TestWallet.Contract.IsValidSignature(&_TestWallet.CallOpts, digest, signature)
}

// IsValidSignature is a free data retrieval call binding the contract method 0x1626ba7e.
//
// Solidity: function isValidSignature(bytes32 digest, bytes signature) view returns(bytes4)
func (_TestWallet *TestWalletCallerSession) IsValidSignature(digest [32]byte, signature []byte) ([4]byte, error) {
	return _TestWallet.Contract.IsValidSignature(&_TestWallet.CallOpts, digest, signature)
}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_TestWallet *TestWalletCaller) Owner(opts *bind.CallOpts) (common.Address, error) {
	var out []interface{}
	err := _TestWallet.contract.Call(opts, &out, "owner")

	if err != nil {
		return *new(common.Address), err
	}

	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)

	return out0, err

}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_TestWallet *TestWalletSession) Owner() (common.Address, error) {
	return _TestWallet.Contract.Owner(&_TestWallet.CallOpts)
}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_TestWallet *TestWalletCallerSession) Owner() (common.Address, error) {
	return _TestWallet.Contract.Owner(&_TestWallet.CallOpts)
}

// Execute is a paid mutator transaction binding the contract method 0xb61d27f6.
//
// Solidity: function execute(address target, uint256 value, bytes data) returns(bytes)
func (_TestWallet *TestWalletTransactor) Execute(opts *bind.TransactOpts, target common.Address, value *big.Int, data []byte) (*types.Transaction, error) {
	return _TestWallet.contract.Transact(opts, "execute", target, value, data)
}

// Execute is a paid mutator transaction binding the contract method 0xb61d27f6.
//
// Solidity: function execute(address target, uint256 value, bytes data) returns(bytes)
func (_TestWallet *TestWalletSession) Execute(target common.Address, value *big.Int, data []byte) (*types.Transaction, error) {
	return _TestWallet.Contract.Execute(&_TestWallet.TransactOpts, target, value, data)
}

// Execute is a paid mutator transaction binding the contract method 0xb61d27f6.
//
// Solidity: function execute(address target, uint256 value, bytes data) returns(bytes)
func (_TestWallet *TestWalletTransactorSession) Execute(target common.Address, value *big.Int, data []byte) (*types.Transaction, error) {
	return _TestWallet.Contract.Execute(&_TestWallet.TransactOpts, target, value, data)
}

// Receive is a paid mutator transaction binding the contract receive function.
//
// Solidity: receive() payable returns()
func (_TestWallet *TestWalletTransactor) Receive(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _TestWallet.contract.RawTransact(opts, nil) // calldata is disallowed for receive function
}

// Receive is a paid mutator transaction binding the contract receive function.
//
// Solidity: receive() payable returns()
func (_TestWallet *TestWalletSession) Receive() (*types.Transaction, error) {
	return _TestWallet.Contract.Receive(&_TestWallet.TransactOpts)
}

// Receive is a paid mutator transaction binding the contract receive function.
//
// Solidity: receive() payable returns()
func (_TestWallet *TestWalletTransactorSession) Receive() (*types.Transaction, error) {
	return _TestWallet.Contract.Receive(&_TestWallet.TransactOpts)
}
