"""Reference data and accounts: assets, symbols, fee tiers, account permissions and freezes."""

from bourse.commands import (
    CreateApiKey,
    CreateAsset,
    DefineFeeTier,
    FreezeAccount,
    ListSymbol,
    OpenAccount,
    RevokeApiKey,
    SetAccountFeeTier,
    SetAccountPermissions,
    SetReferencePrice,
    SetSymbolStatus,
    UnfreezeAccount,
)
from bourse.domain.assets import asset_problem
from bourse.domain.rejections import Refusal, RejectCode
from bourse.domain.symbols import PPM, FeeTier, symbol_problem
from bourse.engine import listen_keys
from bourse.engine.alerts import listings_text, standing_listings
from bourse.engine.cancels import cancel_account_orders
from bourse.engine.customers import open_customer_account
from bourse.engine.output import Output
from bourse.engine.state import (
    Account,
    ApiKey,
    EngineState,
    ReferencePrice,
    SymbolState,
)
from bourse.events import (
    AccountFeeTierChanged,
    AccountFrozen,
    AccountOpened,
    AccountPermissionsChanged,
    AccountUnfrozen,
    ApiKeyCreated,
    ApiKeyRevoked,
    AssetCreated,
    FeeTierDefined,
    ReferencePriceSet,
    SymbolListed,
    SymbolStatusChanged,
)


def create_asset(state: EngineState, out: Output, cmd: CreateAsset) -> Refusal | None:
    problem = asset_problem(cmd.asset, cmd.precision)
    if problem:
        return Refusal(RejectCode.INVALID_PARAMETER, problem)
    if cmd.asset in state.assets:
        return Refusal(RejectCode.ALREADY_EXISTS, f"asset {cmd.asset} already exists")
    state.assets[cmd.asset] = cmd.precision
    if cmd.fiat:
        state.fiat_assets.add(cmd.asset)
    out.events.append(AssetCreated(asset=cmd.asset, precision=cmd.precision, fiat=cmd.fiat))
    return None


def list_symbol(state: EngineState, out: Output, cmd: ListSymbol) -> Refusal | None:
    spec = cmd.spec
    if spec.name in state.symbols:
        return Refusal(RejectCode.ALREADY_EXISTS, f"symbol {spec.name} is already listed")
    for asset in (spec.base, spec.quote):
        if asset not in state.assets:
            return Refusal(RejectCode.UNKNOWN_ASSET, f"asset {asset} does not exist")
    problem = symbol_problem(spec, state.assets[spec.base], state.assets[spec.quote])
    if problem:
        return Refusal(RejectCode.INVALID_PARAMETER, problem)
    state.symbols[spec.name] = SymbolState(spec, cmd.status)
    out.events.append(SymbolListed(spec=spec, status=cmd.status))
    return None


def set_symbol_status(state: EngineState, out: Output, cmd: SetSymbolStatus) -> Refusal | None:
    sym = state.symbols.get(cmd.symbol)
    if sym is None:
        return Refusal(RejectCode.UNKNOWN_SYMBOL, f"symbol {cmd.symbol!r} is not listed")
    if sym.status is cmd.status:
        return Refusal(RejectCode.NO_CHANGE, f"{cmd.symbol} is already {cmd.status}")
    sym.status = cmd.status
    out.events.append(SymbolStatusChanged(symbol=cmd.symbol, status=cmd.status, reason=cmd.reason))
    return None


def set_reference_price(state: EngineState, out: Output, cmd: SetReferencePrice) -> Refusal | None:
    for asset in (cmd.asset, cmd.quote):
        if asset not in state.assets:
            return Refusal(RejectCode.UNKNOWN_ASSET, f"asset {asset!r} does not exist")
    if cmd.asset == cmd.quote:
        return Refusal(RejectCode.INVALID_PARAMETER, "a reference price is of one asset in another")
    if cmd.price_raw <= 0:
        return Refusal(RejectCode.INVALID_PARAMETER, "a reference price must be above zero")
    pair = (cmd.asset, cmd.quote)
    old = state.reference_prices.get(pair)
    previous = old.price if old is not None else 0
    if previous == cmd.price_raw:
        return Refusal(
            RejectCode.NO_CHANGE, f"{cmd.asset} already has this reference price in {cmd.quote}"
        )
    state.reference_prices[pair] = ReferencePrice(cmd.price_raw, cmd.actor, cmd.reason, cmd.ts_ms)
    out.events.append(
        ReferencePriceSet(
            asset=cmd.asset,
            quote=cmd.quote,
            price_raw=cmd.price_raw,
            previous_raw=previous,
            actor=cmd.actor,
            reason=cmd.reason,
        )
    )
    return None


def define_fee_tier(state: EngineState, out: Output, cmd: DefineFeeTier) -> Refusal | None:
    if cmd.tier < 0 or not (
        0 <= cmd.maker_multiplier_ppm <= PPM and 0 <= cmd.taker_multiplier_ppm <= PPM
    ):
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            "a fee tier is a non-negative number with multipliers between 0 and 1,000,000 ppm",
        )
    state.fee_tiers[cmd.tier] = FeeTier(cmd.maker_multiplier_ppm, cmd.taker_multiplier_ppm)
    out.events.append(
        FeeTierDefined(
            tier=cmd.tier,
            maker_multiplier_ppm=cmd.maker_multiplier_ppm,
            taker_multiplier_ppm=cmd.taker_multiplier_ppm,
        )
    )
    return None


def open_account(state: EngineState, out: Output, cmd: OpenAccount) -> Refusal | None:
    if cmd.customer_id:
        cust = state.customers[cmd.customer_id]  # the gate checked it exists and may onboard
        open_customer_account(state, out, cust)
        return None
    if cmd.fee_tier not in state.fee_tiers:
        return Refusal(RejectCode.INVALID_PARAMETER, f"fee tier {cmd.fee_tier} is not defined")
    account_id = state.next_account_id
    state.next_account_id = account_id + 1
    state.accounts[account_id] = Account(account_id, cmd.fee_tier)
    out.events.append(AccountOpened(account_id=account_id, fee_tier=cmd.fee_tier))
    return None


def set_permissions(state: EngineState, out: Output, cmd: SetAccountPermissions) -> Refusal | None:
    acct = state.accounts[cmd.account_id]
    acct.can_trade, acct.can_deposit, acct.can_withdraw = (
        cmd.can_trade,
        cmd.can_deposit,
        cmd.can_withdraw,
    )
    out.events.append(
        AccountPermissionsChanged(
            account_id=acct.id,
            can_trade=cmd.can_trade,
            can_deposit=cmd.can_deposit,
            can_withdraw=cmd.can_withdraw,
            reason=cmd.reason,
        )
    )
    return None


def set_fee_tier(state: EngineState, out: Output, cmd: SetAccountFeeTier) -> Refusal | None:
    if cmd.fee_tier not in state.fee_tiers:
        return Refusal(RejectCode.INVALID_PARAMETER, f"fee tier {cmd.fee_tier} is not defined")
    state.accounts[cmd.account_id].fee_tier = cmd.fee_tier
    out.events.append(AccountFeeTierChanged(account_id=cmd.account_id, fee_tier=cmd.fee_tier))
    return None


def freeze(state: EngineState, out: Output, cmd: FreezeAccount) -> Refusal | None:
    acct = state.accounts[cmd.account_id]
    if acct.frozen:
        return Refusal(RejectCode.NO_CHANGE, f"account {acct.id} is already frozen")
    freeze_account(state, out, acct, cmd.actor, cmd.reason, cmd.evidence, manual=True)
    return None


def freeze_account(
    state: EngineState,
    out: Output,
    acct: Account,
    actor: str,
    reason: str,
    evidence: str,
    manual: bool = False,
) -> None:
    acct.frozen = True
    if manual:
        acct.manual_freeze = reason
    out.events.append(
        AccountFrozen(
            account_id=acct.id, actor=actor, reason=reason, evidence=evidence, manual=manual
        )
    )
    # A frozen account's funds must not move: its open orders end now, their holds return to
    # balances that stay frozen with the account.
    cancel_account_orders(state, out, acct, f"account frozen: {reason}")


def unfreeze(state: EngineState, out: Output, cmd: UnfreezeAccount) -> Refusal | None:
    acct = state.accounts[cmd.account_id]
    if not acct.frozen:
        return Refusal(RejectCode.NO_CHANGE, f"account {acct.id} is not frozen")
    standing = standing_listings(state, acct.customer_id) if acct.customer_id else []
    ids = sorted(a.id for a in standing)
    if sorted(cmd.overrides) != ids:
        if not standing:
            return Refusal(
                RejectCode.INVALID_PARAMETER,
                f"no confirmed sanctions listing of account {acct.id}'s customer stands: "
                f"there is nothing to override (overrides {list(cmd.overrides)})",
            )
        return Refusal(
            RejectCode.LISTING_STANDS,
            f"account {acct.id} stays frozen: customer {acct.customer_id} is listed by "
            f"{listings_text(standing)}, confirmed; a delisting review lifts it, or an unfreeze "
            f"that overrides {ids} and says why (a licence, a mistaken identity)",
        )
    unfreeze_account(out, acct, cmd.actor, cmd.reason, tuple(ids))
    return None


def unfreeze_account(
    out: Output, acct: Account, actor: str, reason: str, overrides: tuple[int, ...] = ()
) -> None:
    acct.frozen = False
    acct.manual_freeze = ""
    out.events.append(
        AccountUnfrozen(account_id=acct.id, actor=actor, reason=reason, overrides=overrides)
    )


def create_api_key(state: EngineState, out: Output, cmd: CreateApiKey) -> Refusal | None:
    if not cmd.api_key or not cmd.credential:
        return Refusal(RejectCode.INVALID_PARAMETER, "an API key needs a key and a credential")
    if cmd.api_key in state.api_keys:
        return Refusal(RejectCode.ALREADY_EXISTS, "that API key is already registered")
    state.api_keys[cmd.api_key] = ApiKey(
        cmd.api_key, cmd.account_id, cmd.kind, cmd.credential, cmd.can_trade, cmd.ip_allow
    )
    out.events.append(
        ApiKeyCreated(
            api_key=cmd.api_key,
            account_id=cmd.account_id,
            kind=cmd.kind,
            can_trade=cmd.can_trade,
            ip_allow=cmd.ip_allow,
            credential=cmd.credential,
        )
    )
    return None


def revoke_api_key(state: EngineState, out: Output, cmd: RevokeApiKey) -> Refusal | None:
    key = state.api_keys.pop(cmd.api_key, None)
    if key is None:
        return Refusal(RejectCode.INVALID_PARAMETER, "no such API key is registered")
    listen_keys.forget(state, key)  # its user data stream ends with it
    out.events.append(
        ApiKeyRevoked(api_key=key.api_key, account_id=key.account_id, reason=cmd.reason)
    )
    return None
