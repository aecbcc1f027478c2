-- The ledger postings as server-side functions: a transfer or a deposit is ONE statement,
-- so one round trip in autocommit (the statement and its commit), with every guarantee of the
-- textbook transaction: rows locked in id order, checks on the locked rows, arithmetic in SQL
-- (bigint, never a JS float), UNIQUE (principal, idempotency_key) answering retries,
-- balanced journal lines whose balance_after chains. Outcomes are returned, not raised, so
-- the caller maps them to the contract's errors without parsing messages.

-- Moves the money of one posting whose two rows the caller has locked: both balances in SQL
-- (bigint, exact), and one debit and one credit journal line whose balance_after chains.
CREATE FUNCTION move_money(
	p_kind text, p_debit uuid, p_credit uuid, p_amount bigint, p_reference text,
	p_transfer uuid, p_deposit uuid, p_fence bigint
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	debit_after bigint;
	credit_after bigint;
BEGIN
	UPDATE wallets SET balance = balance - p_amount, lock_fence = coalesce(p_fence, lock_fence) WHERE id = p_debit RETURNING balance INTO debit_after;
	UPDATE wallets SET balance = balance + p_amount WHERE id = p_credit RETURNING balance INTO credit_after;
	INSERT INTO journal_entries (wallet_id, kind, direction, amount, balance_after, transfer_id, deposit_id, counterparty_wallet_id, reference) VALUES
		(p_debit, p_kind, 'debit', p_amount, debit_after, p_transfer, p_deposit, CASE WHEN p_kind = 'transfer' THEN p_credit END, p_reference),
		(p_credit, p_kind, 'credit', p_amount, credit_after, p_transfer, p_deposit, CASE WHEN p_kind = 'transfer' THEN p_debit END, p_reference);
END
$$;
--> statement-breakpoint
CREATE FUNCTION post_transfer(
	p_user uuid, p_from uuid, p_to uuid, p_amount bigint, p_currency text, p_reference text,
	p_key text, p_fingerprint text, p_fence bigint,
	OUT outcome text, OUT transfer_id uuid, OUT request_fingerprint text, OUT created_at timestamptz
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	debited wallets;
	credited wallets;
BEGIN
	-- Both rows in id order, as every movement does, so opposite transfers never deadlock. NO KEY:
	-- the keys never change, so foreign-key checks of other postings (KEY SHARE) need not wait.
	PERFORM 1 FROM wallets WHERE id IN (p_from, p_to) ORDER BY id FOR NO KEY UPDATE;
	SELECT * INTO debited FROM wallets WHERE id = p_from;
	SELECT * INTO credited FROM wallets WHERE id = p_to;
	IF debited.id IS NULL OR debited.owner_id IS DISTINCT FROM p_user THEN outcome := 'SOURCE_NOT_FOUND'; RETURN; END IF;
	IF p_from = p_to THEN outcome := 'SAME_WALLET'; RETURN; END IF;
	IF credited.id IS NULL OR credited.kind <> 'user' THEN outcome := 'DESTINATION_NOT_FOUND'; RETURN; END IF;
	IF debited.currency <> p_currency OR credited.currency <> p_currency THEN outcome := 'CURRENCY_MISMATCH'; RETURN; END IF;
	-- A lock holder whose lease expired while a newer holder already wrote the wallet is refused.
	IF p_fence IS NOT NULL AND p_fence <= debited.lock_fence THEN outcome := 'LOCK_LOST'; RETURN; END IF;
	IF debited.balance < p_amount OR credited.balance > 9007199254740991 - p_amount THEN
		-- Only here is the earlier result looked up: a retry of a completed transfer may meet a
		-- balance that has moved since.
		SELECT 'EXISTING', t.id, t.request_fingerprint, t.created_at INTO outcome, transfer_id, request_fingerprint, created_at
			FROM transfers t WHERE t.principal = p_user::text AND t.idempotency_key = p_key;
		IF NOT FOUND THEN outcome := CASE WHEN debited.balance < p_amount THEN 'INSUFFICIENT_FUNDS' ELSE 'AMOUNT_TOO_LARGE' END; END IF;
		RETURN;
	END IF;

	INSERT INTO transfers (from_wallet_id, to_wallet_id, amount, currency, reference, principal, idempotency_key, request_fingerprint)
		VALUES (p_from, p_to, p_amount, p_currency, p_reference, p_user::text, p_key, p_fingerprint)
		ON CONFLICT (principal, idempotency_key) DO NOTHING
		RETURNING 'CREATED', id, request_fingerprint, created_at INTO outcome, transfer_id, request_fingerprint, created_at;
	IF NOT FOUND THEN
		-- The unique key answers the rare retry that got past the idempotency cache.
		SELECT 'EXISTING', t.id, t.request_fingerprint, t.created_at INTO outcome, transfer_id, request_fingerprint, created_at
			FROM transfers t WHERE t.principal = p_user::text AND t.idempotency_key = p_key;
		RETURN;
	END IF;

	PERFORM move_money('transfer', p_from, p_to, p_amount, p_reference, transfer_id, NULL, p_fence);
END
$$;
--> statement-breakpoint
CREATE FUNCTION post_deposit(
	p_principal text, p_wallet uuid, p_amount bigint, p_reference text, p_key text, p_fingerprint text,
	OUT outcome text, OUT deposit_id uuid, OUT currency text, OUT request_fingerprint text, OUT created_at timestamptz
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	target wallets;
	funding_id uuid;
BEGIN
	SELECT * INTO target FROM wallets WHERE id = p_wallet AND kind = 'user';
	IF NOT FOUND THEN outcome := 'WALLET_NOT_FOUND'; RETURN; END IF;
	-- The funding account of the currency: created by its first deposit (ON CONFLICT: once).
	SELECT id INTO funding_id FROM wallets WHERE kind = 'system' AND currency = target.currency;
	IF NOT FOUND THEN
		INSERT INTO wallets (kind, currency) VALUES ('system', target.currency) ON CONFLICT (currency) WHERE kind = 'system' DO NOTHING;
		SELECT id INTO funding_id FROM wallets WHERE kind = 'system' AND currency = target.currency;
	END IF;
	PERFORM 1 FROM wallets WHERE id IN (p_wallet, funding_id) ORDER BY id FOR NO KEY UPDATE;
	SELECT * INTO target FROM wallets WHERE id = p_wallet;
	IF target.balance > 9007199254740991 - p_amount THEN
		SELECT 'EXISTING', d.id, d.currency, d.request_fingerprint, d.created_at INTO outcome, deposit_id, currency, request_fingerprint, created_at
			FROM deposits d WHERE d.principal = p_principal AND d.idempotency_key = p_key;
		IF NOT FOUND THEN outcome := 'AMOUNT_TOO_LARGE'; END IF;
		RETURN;
	END IF;

	INSERT INTO deposits (wallet_id, amount, currency, reference, principal, idempotency_key, request_fingerprint)
		VALUES (p_wallet, p_amount, target.currency, p_reference, p_principal, p_key, p_fingerprint)
		ON CONFLICT (principal, idempotency_key) DO NOTHING
		RETURNING 'CREATED', id, currency, request_fingerprint, created_at INTO outcome, deposit_id, currency, request_fingerprint, created_at;
	IF NOT FOUND THEN
		SELECT 'EXISTING', d.id, d.currency, d.request_fingerprint, d.created_at INTO outcome, deposit_id, currency, request_fingerprint, created_at
			FROM deposits d WHERE d.principal = p_principal AND d.idempotency_key = p_key;
		RETURN;
	END IF;

	-- The system account has no lower bound, so its balance may pass -2^53: SQL bigint, exact.
	PERFORM move_money('deposit', funding_id, p_wallet, p_amount, p_reference, NULL, deposit_id, NULL);
END
$$;
