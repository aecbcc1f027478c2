-- Purchases as server-side functions, with the rules of the transfers (0001): one statement per
-- posting, rows locked in id order, checks on the locked rows, arithmetic in SQL, the unique
-- (principal, idempotency_key) answering retries, outcomes returned as text.

-- move_money() of 0001 learns the purchase a line belongs to; the eight-argument form stays
-- for post_transfer() and post_deposit(), which call it by that signature.
CREATE FUNCTION move_money(
	p_kind text, p_debit uuid, p_credit uuid, p_amount bigint, p_reference text,
	p_transfer uuid, p_deposit uuid, p_purchase uuid, p_fence bigint
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	debit_after bigint;
	credit_after bigint;
BEGIN
	UPDATE wallets SET balance = balance - p_amount, lock_fence = coalesce(p_fence, lock_fence) WHERE id = p_debit RETURNING balance INTO debit_after;
	UPDATE wallets SET balance = balance + p_amount WHERE id = p_credit RETURNING balance INTO credit_after;
	INSERT INTO journal_entries (wallet_id, kind, direction, amount, balance_after, transfer_id, deposit_id, purchase_id, counterparty_wallet_id, reference) VALUES
		(p_debit, p_kind, 'debit', p_amount, debit_after, p_transfer, p_deposit, p_purchase, CASE WHEN p_kind = 'transfer' THEN p_credit END, p_reference),
		(p_credit, p_kind, 'credit', p_amount, credit_after, p_transfer, p_deposit, p_purchase, CASE WHEN p_kind = 'transfer' THEN p_debit END, p_reference);
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION move_money(
	p_kind text, p_debit uuid, p_credit uuid, p_amount bigint, p_reference text,
	p_transfer uuid, p_deposit uuid, p_fence bigint
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM move_money(p_kind, p_debit, p_credit, p_amount, p_reference, p_transfer, p_deposit, NULL::uuid, p_fence);
END
$$;
--> statement-breakpoint
-- The settlement account of a provider and currency: created by its first purchase (ON CONFLICT: once).
CREATE FUNCTION settlement_account(p_provider text, p_currency text) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
	account uuid;
BEGIN
	SELECT id INTO account FROM wallets WHERE kind = 'settlement' AND provider = p_provider AND currency = p_currency;
	IF NOT FOUND THEN
		INSERT INTO wallets (kind, provider, currency) VALUES ('settlement', p_provider, p_currency)
			ON CONFLICT (provider, currency) WHERE kind = 'settlement' DO NOTHING;
		SELECT id INTO account FROM wallets WHERE kind = 'settlement' AND provider = p_provider AND currency = p_currency;
	END IF;
	RETURN account;
END
$$;
--> statement-breakpoint
-- Debits the wallet, credits the provider's settlement account and records the purchase pending,
-- in one statement. The settler may work it from p_settle_after_ms on: by then the request's own
-- call to the provider has ended. Amounts are returned as float8 (exact below 2^53, which the
-- API bounds them to) so both drivers read them as numbers.
CREATE FUNCTION post_purchase(
	p_user uuid, p_wallet uuid, p_provider text, p_product text, p_catalog_version text, p_amount bigint,
	p_currency text, p_recipient text, p_reference text, p_key text, p_fingerprint text, p_fence bigint,
	p_settle_after_ms integer,
	OUT outcome text, OUT purchase_id uuid, OUT request_fingerprint text, OUT catalog_version text, OUT amount float8,
	OUT status text, OUT fulfilment jsonb, OUT failure_code text, OUT created_at timestamptz, OUT settled_at timestamptz
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	payer wallets;
	settlement uuid;
BEGIN
	SELECT * INTO payer FROM wallets WHERE id = p_wallet;
	IF payer.id IS NULL OR payer.owner_id IS DISTINCT FROM p_user THEN outcome := 'WALLET_NOT_FOUND'; RETURN; END IF;
	IF payer.currency <> p_currency THEN outcome := 'CURRENCY_MISMATCH'; RETURN; END IF;
	settlement := settlement_account(p_provider, p_currency);
	-- Both rows in id order, as every movement does (see post_transfer).
	PERFORM 1 FROM wallets WHERE id IN (p_wallet, settlement) ORDER BY id FOR NO KEY UPDATE;
	SELECT * INTO payer FROM wallets WHERE id = p_wallet;
	IF p_fence IS NOT NULL AND p_fence <= payer.lock_fence THEN outcome := 'LOCK_LOST'; RETURN; END IF;
	IF payer.balance < p_amount THEN
		-- A retry of a recorded purchase may meet a balance that has moved since.
		SELECT 'EXISTING', p.id, p.request_fingerprint, p.catalog_version, p.amount, p.status, p.fulfilment, p.failure_code, p.created_at, p.settled_at
			INTO outcome, purchase_id, request_fingerprint, catalog_version, amount, status, fulfilment, failure_code, created_at, settled_at
			FROM purchases p WHERE p.principal = p_user::text AND p.idempotency_key = p_key;
		IF NOT FOUND THEN outcome := 'INSUFFICIENT_FUNDS'; END IF;
		RETURN;
	END IF;

	INSERT INTO purchases (wallet_id, settlement_wallet_id, provider, product_id, catalog_version, amount, currency, recipient, reference,
			principal, idempotency_key, request_fingerprint, next_settle_at)
		VALUES (p_wallet, settlement, p_provider, p_product, p_catalog_version, p_amount, p_currency, p_recipient, p_reference,
			p_user::text, p_key, p_fingerprint, now() + make_interval(secs => p_settle_after_ms / 1000.0))
		ON CONFLICT (principal, idempotency_key) DO NOTHING
		RETURNING 'CREATED', id, request_fingerprint, catalog_version, amount, status, fulfilment, failure_code, created_at, settled_at
		INTO outcome, purchase_id, request_fingerprint, catalog_version, amount, status, fulfilment, failure_code, created_at, settled_at;
	IF NOT FOUND THEN
		SELECT 'EXISTING', p.id, p.request_fingerprint, p.catalog_version, p.amount, p.status, p.fulfilment, p.failure_code, p.created_at, p.settled_at
			INTO outcome, purchase_id, request_fingerprint, catalog_version, amount, status, fulfilment, failure_code, created_at, settled_at
			FROM purchases p WHERE p.principal = p_user::text AND p.idempotency_key = p_key;
		RETURN;
	END IF;

	PERFORM move_money('purchase', p_wallet, settlement, p_amount, p_reference, NULL, NULL, purchase_id, p_fence);
END
$$;
--> statement-breakpoint
-- Settles a pending purchase once: completed with the provider's fulfilment, or (p_fulfilment
-- null) failed with p_failure_code and refunded — the settlement account debited, the wallet
-- credited, in this same statement. A purchase already settled is left as it is and answered
-- ('ALREADY'): the request and the settlers of every instance may race to settle one purchase,
-- and the first one wins. The purchase row is locked first, then the two wallets in id order.
CREATE FUNCTION settle_purchase(
	p_purchase uuid, p_fulfilment jsonb, p_failure_code text,
	OUT outcome text, OUT status text, OUT fulfilment jsonb, OUT failure_code text, OUT settled_at timestamptz
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	bought purchases;
BEGIN
	SELECT * INTO bought FROM purchases WHERE id = p_purchase FOR NO KEY UPDATE;
	IF NOT FOUND THEN outcome := 'NOT_FOUND'; RETURN; END IF;
	IF bought.status <> 'pending' THEN
		outcome := 'ALREADY';
	ELSE
		outcome := 'SETTLED';
		IF p_fulfilment IS NULL THEN
			PERFORM 1 FROM wallets WHERE id IN (bought.wallet_id, bought.settlement_wallet_id) ORDER BY id FOR NO KEY UPDATE;
			PERFORM move_money('refund', bought.settlement_wallet_id, bought.wallet_id, bought.amount, bought.reference, NULL, NULL, p_purchase, NULL);
		END IF;
		UPDATE purchases p SET
			status = CASE WHEN p_fulfilment IS NULL THEN 'failed' ELSE 'completed' END,
			fulfilment = p_fulfilment,
			failure_code = CASE WHEN p_fulfilment IS NULL THEN p_failure_code END,
			settled_at = now()
			WHERE p.id = p_purchase
			RETURNING * INTO bought;
	END IF;
	status := bought.status;
	fulfilment := bought.fulfilment;
	failure_code := bought.failure_code;
	settled_at := bought.settled_at;
END
$$;
