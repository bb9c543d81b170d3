-- The study in DuckDB SQL, written the way a data engineer would: window functions over
-- the daily rows, no engine code. The benchmark's study: price basis (close), threshold
-- getvariable('threshold') crossed upwards, horizons 1, 3, 6, 12 months.
-- Inputs: table prices (ticker, date, close, …) and table last_sessions (month, last_session:
-- the last NYSE session of each calendar month). Outputs: tables monthly, events, summary, baseline.
-- Months are matched by their number (year * 12 + month), so a month without rows is never bridged.

-- Daily context: up = close above the previous row's; underwater = close / 252-session high - 1;
-- low_63 = the 63-session low of underwater (sessions present, fewer near a ticker's start).
CREATE OR REPLACE TEMP TABLE daily AS
WITH marked AS (
    SELECT
        ticker,
        date,
        close,
        date_trunc('month', date)::DATE AS month,
        coalesce(close > lag(close) OVER by_date, false) AS up,
        close / max(close) OVER (by_date ROWS BETWEEN 251 PRECEDING AND CURRENT ROW) - 1 AS underwater
    FROM prices
    WINDOW by_date AS (PARTITION BY ticker ORDER BY date)
)
SELECT
    *,
    min(underwater) OVER (PARTITION BY ticker ORDER BY date ROWS BETWEEN 62 PRECEDING AND CURRENT ROW) AS low_63
FROM marked;

-- Month-ends: the last row of each (ticker, month) present.
CREATE OR REPLACE TEMP TABLE month_end AS
WITH grouped AS (
    SELECT
        ticker,
        month,
        max(date) AS as_of,
        arg_max(close, date) AS close,
        count(*) AS sessions,
        count_if(up) AS up_sessions,
        arg_max(low_63, date) AS low_63,
        year(month) * 12 + month(month) AS number
    FROM daily
    GROUP BY ticker, month
)
SELECT
    g.*,
    -- the low read on the last session before m: the previous month-row's last row
    lag(g.low_63) OVER (PARTITION BY g.ticker ORDER BY g.month) AS prior_drawdown,
    coalesce(max(g.as_of) OVER (PARTITION BY g.ticker) >= s.last_session, false) AS complete
FROM grouped AS g
LEFT JOIN last_sessions AS s USING (month);

-- C[m + k] by month number (RANGE frames: NULL when that month has no row).
CREATE OR REPLACE TEMP TABLE monthly AS
WITH shifted AS (
    SELECT
        *,
        first(close) OVER (by_number RANGE BETWEEN 1 PRECEDING AND 1 PRECEDING) AS c_back1,
        first(close) OVER (by_number RANGE BETWEEN 13 PRECEDING AND 13 PRECEDING) AS c_back13,
        first(close) OVER (by_number RANGE BETWEEN 1 FOLLOWING AND 1 FOLLOWING) AS c1,
        first(close) OVER (by_number RANGE BETWEEN 3 FOLLOWING AND 3 FOLLOWING) AS c3,
        first(close) OVER (by_number RANGE BETWEEN 6 FOLLOWING AND 6 FOLLOWING) AS c6,
        first(close) OVER (by_number RANGE BETWEEN 12 FOLLOWING AND 12 FOLLOWING) AS c12,
        first(complete) OVER (by_number RANGE BETWEEN 1 FOLLOWING AND 1 FOLLOWING) AS done1,
        first(complete) OVER (by_number RANGE BETWEEN 3 FOLLOWING AND 3 FOLLOWING) AS done3,
        first(complete) OVER (by_number RANGE BETWEEN 6 FOLLOWING AND 6 FOLLOWING) AS done6,
        first(complete) OVER (by_number RANGE BETWEEN 12 FOLLOWING AND 12 FOLLOWING) AS done12,
        -- the path C[m], C[m+1], … of the next rows; it is the month path only without gaps,
        -- i.e. when the row h ahead is month m + h
        list(close) OVER (by_number ROWS BETWEEN CURRENT ROW AND 12 FOLLOWING) AS path,
        lead(number, 1) OVER by_number AS number1,
        lead(number, 3) OVER by_number AS number3,
        lead(number, 6) OVER by_number AS number6,
        lead(number, 12) OVER by_number AS number12
    FROM month_end
    WINDOW by_number AS (PARTITION BY ticker ORDER BY number)
),
-- drawdown after k months: C[m+k] / max(C[m..m+k]) - 1
paths AS (
    SELECT *, list_transform(path, lambda c, k: c / list_max(path[1:k]) - 1) AS drawdowns FROM shifted
)
SELECT
    ticker,
    month,
    as_of,
    close,
    complete,
    sessions::UINTEGER AS sessions,
    up_sessions::UINTEGER AS up_sessions,
    prior_drawdown,
    c_back1 / c_back13 - 1 AS prior_12m,
    up_sessions / sessions AS up_share,
    close / c_back1 - 1 AS move,
    CASE WHEN done1 THEN c1 / close - 1 END AS fwd_1m,
    CASE WHEN done3 THEN c3 / close - 1 END AS fwd_3m,
    CASE WHEN done6 THEN c6 / close - 1 END AS fwd_6m,
    CASE WHEN done12 THEN c12 / close - 1 END AS fwd_12m,
    CASE WHEN number1 = number + 1 AND done1 THEN list_min(drawdowns[1:2]) END AS mdd_1m,
    CASE WHEN number3 = number + 3 AND done3 THEN list_min(drawdowns[1:4]) END AS mdd_3m,
    CASE WHEN number6 = number + 6 AND done6 THEN list_min(drawdowns[1:7]) END AS mdd_6m,
    CASE WHEN number12 = number + 12 AND done12 THEN list_min(drawdowns[1:13]) END AS mdd_12m
FROM paths
ORDER BY ticker, month;

-- Events and the first session of the month whose close crossed C[m-1] · (1 + threshold).
CREATE OR REPLACE TEMP TABLE events AS
WITH qualifying AS (
    SELECT * FROM monthly WHERE move >= getvariable('threshold')
),
previous AS (
    SELECT m.ticker, m.month, p.close AS previous_close
    FROM qualifying AS m
    JOIN month_end AS p ON p.ticker = m.ticker AND p.number = year(m.month) * 12 + month(m.month) - 1
),
crossings AS (
    SELECT d.ticker, d.month, min(d.date) AS first_crossed_on
    FROM daily AS d
    JOIN previous AS p USING (ticker, month)
    WHERE d.close / p.previous_close - 1 >= getvariable('threshold')
    GROUP BY d.ticker, d.month
)
SELECT q.*, c.first_crossed_on
FROM qualifying AS q
LEFT JOIN crossings AS c USING (ticker, month)
ORDER BY ticker, month;

-- Per (ticker, horizon) over the rows with a known forward return; Sharpe with the
-- population deviation, NULL when n < 2 or the deviation is 0.
CREATE OR REPLACE MACRO horizon_summary(frame) AS TABLE
WITH long AS (
    SELECT
        ticker,
        h.horizon,
        CASE h.horizon WHEN 1 THEN fwd_1m WHEN 3 THEN fwd_3m WHEN 6 THEN fwd_6m ELSE fwd_12m END AS fwd,
        CASE h.horizon WHEN 1 THEN mdd_1m WHEN 3 THEN mdd_3m WHEN 6 THEN mdd_6m ELSE mdd_12m END AS mdd
    FROM query_table(frame), (VALUES (1), (3), (6), (12)) AS h(horizon)
)
SELECT
    ticker,
    horizon::BIGINT AS horizon,
    count(fwd)::UINTEGER AS n,
    avg(fwd) AS average,
    median(fwd) AS median,
    avg((fwd > 0)::DOUBLE) AS win_rate,
    CASE WHEN count(fwd) >= 2 AND stddev_pop(fwd) > 0 THEN avg(fwd) / stddev_pop(fwd) END AS sharpe,
    min(mdd) FILTER (WHERE fwd IS NOT NULL) AS max_drawdown
FROM long
GROUP BY ticker, horizon
ORDER BY ticker, horizon;

CREATE OR REPLACE TEMP TABLE summary AS FROM horizon_summary('events');
CREATE OR REPLACE TEMP TABLE baseline AS FROM horizon_summary('monthly');
